namespace CiTrigger.Silo.Cli;

/// <summary>An option a subcommand takes: <c>--name VALUE</c>, or a flag when <see cref="Value"/> is null.</summary>
public sealed record CommandOption(string Name, string? Value, string Help, bool Required = false);

/// <summary>
/// The options of one subcommand, checked against what it declares: an unknown option or a missing value
/// is a usage error, never silently ignored. <c>--Section:Key=value</c> passes through as configuration
/// for commands that read the service's configuration.
/// </summary>
public sealed class CommandArgs
{
    private readonly Dictionary<string, string?> values = new(StringComparer.Ordinal);

    public List<string> Configuration { get; } = [];

    public static CommandArgs Parse(string[] args, IReadOnlyList<CommandOption> options, bool takesConfiguration = false)
    {
        var parsed = new CommandArgs();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                throw new UsageException($"unexpected argument '{arg}'");
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? arg[2..] : arg[2..equals];
            if (takesConfiguration && name.Contains(':', StringComparison.Ordinal))
            {
                parsed.Configuration.Add(arg);
                if (equals < 0 && i + 1 < args.Length)
                {
                    parsed.Configuration.Add(args[++i]);
                }

                continue;
            }

            var option = options.FirstOrDefault(o => o.Name == name)
                ?? throw new UsageException($"unknown option --{name}");
            if (parsed.values.ContainsKey(name))
            {
                throw new UsageException($"--{name} is given twice");
            }

            if (option.Value is null)
            {
                parsed.values[name] = equals < 0 ? null : throw new UsageException($"--{name} takes no value");
            }
            else if (equals >= 0)
            {
                parsed.values[name] = arg[(equals + 1)..];
            }
            else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                parsed.values[name] = args[++i];
            }
            else
            {
                throw new UsageException($"--{name} needs a value ({option.Value})");
            }
        }

        return parsed;
    }

    public bool Flag(string name) => values.ContainsKey(name);

    public string? Optional(string name) => values.TryGetValue(name, out var value) ? value : null;

    public string Required(string name) =>
        Optional(name) is { Length: > 0 } value ? value : throw new UsageException($"--{name} is required");
}

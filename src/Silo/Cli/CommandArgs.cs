namespace CiTrigger.Silo.Cli;

/// <summary><c>--name value</c> and <c>--flag</c> options; <c>--Section:Key=value</c> pass through as configuration.</summary>
public sealed class CommandArgs
{
    private readonly Dictionary<string, string?> values = new(StringComparer.Ordinal);

    public List<string> Configuration { get; } = [];

    public static CommandArgs Parse(string[] args)
    {
        var parsed = new CommandArgs();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"unexpected argument '{arg}'");
            }

            if (arg.Contains(':', StringComparison.Ordinal))
            {
                parsed.Configuration.Add(arg);
                if (!arg.Contains('=', StringComparison.Ordinal) && i + 1 < args.Length)
                {
                    parsed.Configuration.Add(args[++i]);
                }

                continue;
            }

            var name = arg[2..];
            var hasValue = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
            parsed.values[name] = hasValue ? args[++i] : null;
        }

        return parsed;
    }

    public bool Flag(string name) => values.ContainsKey(name);

    public string? Optional(string name) => values.TryGetValue(name, out var value) ? value : null;

    public string Required(string name) =>
        Optional(name) is { Length: > 0 } value ? value : throw new UsageException($"--{name} is required");
}

using System.Reflection;
using System.Text;

namespace CiTrigger.Silo.Cli;

/// <summary>Subcommands of the service executable: try a manifest before pushing it, or send a webhook.</summary>
public static class Commands
{
    private sealed record Command(
        string Summary, IReadOnlyList<CommandOption> Options, bool TakesConfiguration, Func<CommandArgs, TextWriter, TextWriter, Task<int>> Run);

    private static readonly Dictionary<string, Command> All = new(StringComparer.Ordinal)
    {
        ["send"] = new("sign a payload the way GitHub does and post it to a running service", SendCommand.Options, false, SendCommand.RunAsync),
        ["annotate"] = new("print a manifest with the annotations an event would add, for kubectl apply -f -", AnnotateCommand.Options, false, AnnotateCommand.RunAsync),
        ["validate"] = new("check a manifest against the service's limits and policy", ValidateCommand.Options, true, ValidateCommand.RunAsync),
        ["hooks install"] = new("create the webhook of a repository or organization, or update the one with the same URL", HooksCommand.InstallOptions, true, HooksCommand.InstallAsync),
        ["hooks list"] = new("list the webhooks of a repository or organization with their last delivery", HooksCommand.ListOptions, true, HooksCommand.ListAsync),
    };

    private static readonly string[] HelpWords = ["help", "--help", "-h"];

    /// <summary>
    /// Whether the command line is for the tools rather than the service. The service takes only options
    /// (<c>--Section:Key=value</c>, <c>--urls</c>), so a first word that is not one is a command, known or not.
    /// </summary>
    public static bool IsCommand(string first) =>
        All.ContainsKey(first) || HelpWords.Contains(first) || first == "--version" || (!first.StartsWith('-') && !first.Contains('=', StringComparison.Ordinal));

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        if (args[0] == "--version")
        {
            await output.WriteLineAsync(Version);
            return 0;
        }

        if (HelpWords.Contains(args[0]))
        {
            await output.WriteLineAsync(Usage);
            return 0;
        }

        // "hooks install" and "hooks list" are named by two words.
        var words = args is ["hooks", var verb, ..] && !verb.StartsWith('-') ? 2 : 1;
        var name = string.Join(' ', args[..words]);
        if (!All.TryGetValue(name, out var command))
        {
            await error.WriteLineAsync($"unknown command '{name}'");
            await error.WriteLineAsync(Usage);
            return 2;
        }

        var rest = args[words..];
        if (rest.Any(a => a is "--help" or "-h"))
        {
            await output.WriteAsync(Help(name, command));
            return 0;
        }

        if (rest.Contains("--version"))
        {
            await output.WriteLineAsync(Version);
            return 0;
        }

        try
        {
            return await command.Run(CommandArgs.Parse(rest, command.Options, command.TakesConfiguration), output, error);
        }
        catch (UsageException e)
        {
            await error.WriteLineAsync($"{name}: {e.Message}");
            await error.WriteLineAsync($"usage: Silo {name} [options]; 'Silo {name} --help' lists them");
            return 2;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"{name}: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Not foreseen, so a bug to report, but still one line for the person at the terminal.
            await error.WriteLineAsync($"{name}: unexpected {e.GetType().Name}: {e.Message}");
            return 1;
        }
    }

    /// <summary>The assembly's informational version (with the commit it was built from, when known).</summary>
    public static string Version =>
        "k8s-webhook-handler " + (typeof(Commands).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown");

    public static string Usage
    {
        get
        {
            var usage = new StringBuilder("usage:\n  Silo [--Section:Key=value ...]   run the service (settings: docs/configuration.md)\n");
            foreach (var (name, command) in All)
            {
                usage.Append(FormattableString.Invariant($"  Silo {name,-28}{command.Summary}\n"));
            }

            return usage.Append("  Silo --version                   print the version\n")
                .Append("Run 'Silo <command> --help' for the options of a command.").ToString();
        }
    }

    private static string Help(string name, Command command)
    {
        var help = new StringBuilder(FormattableString.Invariant($"usage: Silo {name} [options]{(command.TakesConfiguration ? " [--Section:Key=value ...]" : "")}\n  {command.Summary}\n"));
        foreach (var option in command.Options)
        {
            var left = option.Value is null ? $"--{option.Name}" : $"--{option.Name} {option.Value}";
            help.Append(FormattableString.Invariant($"  {left,-28}{(option.Required ? "(required) " : "")}{option.Help}\n"));
        }

        if (command.TakesConfiguration)
        {
            help.Append(FormattableString.Invariant($"  {"--Section:Key=value",-28}any service configuration key, as the service reads it (also environment, appsettings.json)\n"));
        }

        return help.Append(FormattableString.Invariant($"  {"--help, -h",-28}print this help\n")).ToString();
    }
}

public sealed class UsageException(string message) : Exception(message);

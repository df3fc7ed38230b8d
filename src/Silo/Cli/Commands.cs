namespace CiTrigger.Silo.Cli;

/// <summary>Subcommands of the service executable: try a manifest before pushing it, or send a webhook.</summary>
public static class Commands
{
    private static readonly Dictionary<string, Func<CommandArgs, TextWriter, TextWriter, Task<int>>> All = new(StringComparer.Ordinal)
    {
        ["send"] = SendCommand.RunAsync,
        ["annotate"] = AnnotateCommand.RunAsync,
        ["validate"] = ValidateCommand.RunAsync,
    };

    public static bool IsCommand(string name) => All.ContainsKey(name) || name is "help" or "--help" or "-h";

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        if (!All.TryGetValue(args[0], out var command))
        {
            await output.WriteLineAsync(Usage);
            return 0;
        }

        try
        {
            return await command(CommandArgs.Parse(args[1..]), output, error);
        }
        catch (UsageException e)
        {
            await error.WriteLineAsync($"{args[0]}: {e.Message}");
            await error.WriteLineAsync(Usage);
            return 2;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"{args[0]}: {e.Message}");
            return 1;
        }
    }

    public const string Usage = """
        usage:
          Silo                                 run the service (see README for configuration)
          Silo send [--url URL] [--secret S] [--event push] [--delivery ID] [--form]
                    (--file PAYLOAD.json | --repo OWNER/NAME --ref REF --revision SHA [--before SHA])
          Silo annotate --file MANIFEST.yaml --event TYPE [--action A] --repo OWNER/NAME --ref REF
                    [--revision SHA] [--before SHA] [--repo-url URL] [--repo-ssh URL] [--delivery ID]
          Silo validate --file MANIFEST.yaml [--Handler:Namespace=ci ...any service configuration key]
        """;
}

public sealed class UsageException(string message) : Exception(message);

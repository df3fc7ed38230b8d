namespace CiTrigger.Silo.Cli;

/// <summary>Subcommands of the service executable: try a manifest before pushing it, send a webhook, set up webhooks.</summary>
public static class Commands
{
    private static readonly Dictionary<string, Func<CommandArgs, TextWriter, TextWriter, Task<int>>> All = new(StringComparer.Ordinal)
    {
        ["send"] = SendCommand.RunAsync,
        ["annotate"] = AnnotateCommand.RunAsync,
        ["validate"] = ValidateCommand.RunAsync,
        ["hooks install"] = HooksCommand.InstallAsync,
        ["hooks list"] = HooksCommand.ListAsync,
    };

    public static bool IsCommand(string name) => All.ContainsKey(name) || name is "hooks" or "help" or "--help" or "-h";

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        // "hooks install" and "hooks list" are named by two words.
        var words = args is ["hooks", var verb, ..] && !verb.StartsWith("--", StringComparison.Ordinal) ? 2 : 1;
        if (!All.TryGetValue(string.Join(' ', args[..words]), out var command))
        {
            await output.WriteLineAsync(Usage);
            return 0;
        }

        try
        {
            return await command(CommandArgs.Parse(args[words..]), output, error);
        }
        catch (UsageException e)
        {
            await error.WriteLineAsync($"{string.Join(' ', args[..words])}: {e.Message}");
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
          Silo hooks install (--repo OWNER/NAME | --org NAME) --url URL [--events push,delete,...] [--token T]
                    (a token with admin rights: GITHUB_TOKEN; the secret: WEBHOOK_SECRET; --GitHub:BaseUrl=... for Enterprise)
          Silo hooks list (--repo OWNER/NAME | --org NAME) [--token T]
        """;
}

public sealed class UsageException(string message) : Exception(message);

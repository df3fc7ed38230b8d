using System.Text.Encodings.Web;
using System.Text.Json;
using CiTrigger.Gateway.Forges.GitHub;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;

namespace CiTrigger.Silo.Cli;

/// <summary>
/// Prints a local manifest with the annotations an event would add, each document as JSON (which is
/// YAML) behind a <c>---</c>, ready for <c>kubectl apply -f -</c>.
/// </summary>
public static class AnnotateCommand
{
    /// <summary>Characters stay as they are (<c>'</c>, not <c>\u0027</c>): the output is YAML for kubectl, never HTML.</summary>
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static readonly IReadOnlyList<CommandOption> Options =
    [
        new("file", "MANIFEST.yaml", "the manifest to annotate", Required: true),
        new("event", "TYPE", $"the event type: {string.Join(", ", GitHubEventReader.SupportedEvents)}", Required: true),
        new("repo", "OWNER/NAME", "the repository", Required: true),
        new("ref", "REF", "the full ref, e.g. refs/heads/main", Required: true),
        new("action", "A", "the event's action, e.g. rerequested"),
        new("revision", "SHA", "the commit the event is about"),
        new("before", "SHA", "the commit before a push"),
        new("repo-url", "URL", "git URL of the repository (default git://github.com/OWNER/NAME.git)"),
        new("repo-ssh", "URL", "SSH URL of the repository (default git@github.com:OWNER/NAME.git)"),
        new("delivery", "ID", "the delivery id (default local-<random>)"),
    ];

    public static async Task<int> RunAsync(CommandArgs args, TextWriter output, TextWriter error)
    {
        var repo = args.Required("repo");
        var gitRef = args.Required("ref");
        var eventType = args.Required("event");
        if (!GitHubEventReader.SupportedEvents.Contains(eventType))
        {
            throw new UsageException($"--event: '{eventType}' is not an event type this service handles ({string.Join(", ", GitHubEventReader.SupportedEvents)})");
        }

        var hookEvent = new HookEvent(
            args.Optional("delivery") ?? "local-" + Guid.NewGuid().ToString("N")[..12],
            eventType,
            args.Optional("action") ?? "",
            repo,
            args.Optional("repo-url") ?? $"git://github.com/{repo}.git",
            args.Optional("repo-ssh") ?? $"git@github.com:{repo}.git",
            gitRef,
            args.Optional("revision") ?? "",
            args.Optional("before") ?? "",
            "main",
            false,
            DateTimeOffset.UtcNow);
        try
        {
            var limits = new ManifestOptions().Limits;
            var file = args.Required("file");
            var documents = ManifestReader.Read(await InputFile.ReadAsync(file, limits.MaxBytes, "Handler:MaxManifestBytes"), limits);
            // The parameters as the service fills them in for this event ({{ pipeline }} from the file's name).
            var parameters = ManifestParameters.For(hookEvent, file);
            for (var i = 0; i < documents.Count; i++)
            {
                await output.WriteLineAsync("---");
                await output.WriteLineAsync(ManifestAnnotator.Annotate(documents[i], hookEvent, i, parameters).ToJsonString(Indented));
            }

            return 0;
        }
        catch (Exception e) when (e is ManifestException or IOException)
        {
            await error.WriteLineAsync($"annotate: {e.Message}");
            return 1;
        }
    }
}

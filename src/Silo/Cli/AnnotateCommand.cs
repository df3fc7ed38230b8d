using System.Text.Json;
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
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<int> RunAsync(CommandArgs args, TextWriter output, TextWriter error)
    {
        var repo = args.Required("repo");
        var gitRef = args.Required("ref");
        var hookEvent = new HookEvent(
            args.Optional("delivery") ?? "local-" + Guid.NewGuid().ToString("N")[..12],
            args.Required("event"),
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
            var documents = ManifestReader.Read(await File.ReadAllBytesAsync(args.Required("file")), new ManifestOptions().Limits);
            for (var i = 0; i < documents.Count; i++)
            {
                await output.WriteLineAsync("---");
                await output.WriteLineAsync(ManifestAnnotator.Annotate(documents[i], hookEvent, i).ToJsonString(Indented));
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

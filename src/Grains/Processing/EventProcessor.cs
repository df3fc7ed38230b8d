using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// The work of one attempt at one event: make sure it may run (a pull request event whose trust hangs on
/// someone's write access asks GitHub), read the manifest at the event's revision, parse it under the
/// limits, annotate every document and apply them in file order; with per-run credentials
/// (<see cref="RunCredentials"/>), their Secret is made just before the first document is applied and owned by the
/// first run object after.
/// </summary>
public sealed partial class EventProcessor(
    IManifestSource source, IManifestApplier applier, ParsedManifestCache parsed, IRefCatalog catalog, IRepositoryPermissions permissions,
    IChangedFiles changedFiles, IRepositorySettings repositories, IRunSlots slots, RunCredentials runCredentials, IOptions<ManifestOptions> options, ILogger<EventProcessor> logger)
{
    /// <summary>How much of an annotated manifest is kept for operators to read back.</summary>
    public const int MaxKeptManifestChars = 256 * 1024;

    /// <param name="e">The event.</param>
    /// <param name="mayHaveRun">Whether an earlier attempt at this event may have applied part of it.</param>
    /// <param name="progress">Pipeline mode: what earlier attempts settled (those pipelines are not applied again).</param>
    /// <param name="cancellationToken">The attempt's deadline.</param>
    /// <exception cref="PipelinesUnfinishedException">A pipeline failed in a way worth another try, after others settled.</exception>
    public async Task<ProcessResult> ProcessAsync(HookEvent e, bool mayHaveRun, PipelineProgress? progress, CancellationToken cancellationToken)
    {
        if (e.AsksForWriter)
        {
            await RequireWriterAsync(e, cancellationToken);
        }

        var manifest = options.Value;
        var repository = repositories.Find(RefKey.Repository(e.Forge, e.Repository));
        var credentials = runCredentials.For(e);
        if (!manifest.SingleFile)
        {
            return await new PipelineRunner(source, applier, parsed, changedFiles, manifest, repository, Keep, () => TakeSlotAsync(e, repository))
                .ProcessAsync(e, mayHaveRun, progress ?? PipelineProgress.None, credentials, cancellationToken);
        }

        var path = manifest.ManifestPath!;
        var bytes = await source.GetAsync(new ManifestFile(e.Forge, e.ManifestRepository, path, e.ManifestRef, e.InstallationId), cancellationToken);
        var documents = parsed.Read(bytes, manifest.Limits);
        if (documents.Count == 0)
        {
            throw new ManifestException($"{path} at {e.ManifestRef} holds no documents");
        }

        var parameters = ManifestParameters.MayMention(bytes) ? ManifestParameters.For(e, path, repository?.Params, credentials?.Name) : null;
        var annotated = documents.Select((d, i) => ManifestAnnotator.Annotate(d, e, i, parameters, gitAuthSecret: credentials?.Name)).ToList();
        await TakeSlotAsync(e, repository);

        try
        {
            if (credentials is not null)
            {
                await credentials.CreateAsync(cancellationToken);
            }

            var applied = await applier.ApplyAsync(annotated, e.Delivery, mayHaveRun, cancellationToken);
            if (credentials is not null)
            {
                await credentials.OwnAsync(applied, cancellationToken);
            }

            return new ProcessResult(applied, null);
        }
        finally
        {
            // Rendered after the applier filled in what policy decides (the namespace): exactly what was sent.
            // Kept in the background: operators get the manifest, events do not wait for the write.
            Keep(e.Delivery, annotated);
        }
    }

    /// <summary>
    /// Under a Repository's <c>concurrencyLimit</c>, returns once the event holds one of its repository's run slots, taken
    /// just before the first object is applied (an event that applies nothing never waits); throws
    /// <see cref="WaitingForRunSlotException"/> while it must wait.
    /// </summary>
    private Task TakeSlotAsync(HookEvent e, RepositorySettings? repository) =>
        repository?.ConcurrencyLimit is { } limit ? slots.AcquireAsync(e, limit) : Task.CompletedTask;

    /// <summary>Keeps what was sent for operators, in the background.</summary>
    private void Keep(string delivery, IReadOnlyList<System.Text.Json.Nodes.JsonObject> documents) => _ = KeepAsync(delivery, Render(documents));

    /// <summary>Whether GitHub's permission word lets a user vouch for a pull request's head: write access or more.</summary>
    private static bool IsWriter(string permission) => permission is "admin" or "maintain" or "write";

    /// <summary>
    /// Returns once one of the event's <see cref="HookEvent.RunsIfWriter"/> has write access; throws
    /// <see cref="ApprovalRequiredException"/> when none has, or GitHub refused to say, and a transient failure
    /// when asking again may help (the attempt is retried like any other).
    /// </summary>
    private async Task RequireWriterAsync(HookEvent e, CancellationToken cancellationToken)
    {
        var answers = new List<string>();
        foreach (var login in e.RunsIfWriter!)
        {
            try
            {
                var permission = await permissions.PermissionAsync(e.Repository, login, e.InstallationId, cancellationToken);
                if (IsWriter(permission))
                {
                    return;
                }

                answers.Add($"{login} has permission '{permission}'");
            }
            catch (PermanentException refused)
            {
                answers.Add(refused.Message);
            }
        }

        throw new ApprovalRequiredException($"waiting for approval: no write access to {e.Repository} ({string.Join("; ", answers)})");
    }

    /// <summary>The documents as sent, each as JSON (which is YAML) behind a <c>---</c>, cut at <see cref="MaxKeptManifestChars"/>.</summary>
    public static string Render(IReadOnlyList<System.Text.Json.Nodes.JsonObject> documents)
    {
        // Each document is serialized once; the total is only said when the text is cut.
        var text = string.Concat(documents.Select(d => "---\n" + d.ToJsonString() + "\n"));
        return text.Length <= MaxKeptManifestChars
            ? text
            : text[..MaxKeptManifestChars] + $"\n# … cut at {MaxKeptManifestChars} of about {text.Length} characters\n";
    }

    private async Task KeepAsync(string delivery, string text)
    {
        try
        {
            await catalog.RecordManifestAsync(delivery, text);
        }
        catch (Exception error)
        {
            Log.KeepFailed(logger, error, delivery);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(11, LogLevel.Warning, "Could not keep the manifest of {Delivery} for operators; the event is not affected")]
        public static partial void KeepFailed(ILogger logger, Exception error, string delivery);
    }
}

using System.Collections.Immutable;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;

namespace CiTrigger.Grains.Processing;

/// <summary>What an attempt did: the applied objects and, in pipeline mode, what became of each pipeline (null in single-file mode).</summary>
public sealed record ProcessResult(IReadOnlyList<AppliedObject> Objects, ImmutableList<PipelineRecord>? Pipelines);

/// <summary>
/// A pipeline failed in a way worth another try after others were settled: the attempt failed with
/// <see cref="Exception.InnerException"/>, and <see cref="Progress"/> is what the next attempt starts from.
/// </summary>
public sealed class PipelinesUnfinishedException(Exception cause, PipelineProgress progress)
    : Exception(cause.Message, cause)
{
    public PipelineProgress Progress { get; } = progress;
}

/// <summary>
/// Pipeline mode's part of an attempt (the design's "Pipelines"): lists the pipeline directory once at the
/// event's revision (the directory its Repository names, else <c>Handler:PipelineDirectory</c>), reads each pipeline by its blob id (parsed once per blob, <see cref="ParsedManifestCache"/>),
/// decides by its rules whether it runs, and applies each that runs as one unit, in file-name order. A pipeline
/// that fails for good is recorded as failed and the others go on; one that may succeed on another try stops the
/// attempt with what was settled so far (<see cref="PipelinesUnfinishedException"/>), so no pipeline applies twice.
/// </summary>
public sealed class PipelineRunner(
    IManifestSource source, IManifestApplier applier, ParsedManifestCache parsed, IChangedFiles changedFiles, ManifestOptions options,
    RepositorySettings? repository, Action<string, IReadOnlyList<JsonObject>> keep, Func<Task> beforeFirstApply)
{
    private bool changedAsked;
    private bool applying;
    private IReadOnlyList<string>? changed;

    /// <param name="e">The event.</param>
    /// <param name="mayHaveRun">Whether an earlier attempt may have applied part of it.</param>
    /// <param name="progress">What earlier attempts settled.</param>
    /// <param name="credentials">The event's per-run credentials, made before the first pipeline is applied; null when it gets none.</param>
    /// <param name="cancellationToken">The attempt's deadline.</param>
    public async Task<ProcessResult> ProcessAsync(HookEvent e, bool mayHaveRun, PipelineProgress progress, EventCredentials? credentials, CancellationToken cancellationToken)
    {
        var directory = repository?.PipelineDirectory ?? options.PipelineDirectory;
        var listed = await source.ListAsync(new ManifestFile(e.Forge, e.ManifestRepository, directory, e.ManifestRef, e.InstallationId), cancellationToken);
        var files = Pipelines(listed ?? [], directory, e.ManifestRef);
        var records = progress.Pipelines.ToBuilder();
        var objects = progress.Objects.ToBuilder();
        var sent = new List<JsonObject>();
        try
        {
            foreach (var (name, file) in files)
            {
                if (records.Exists(r => r.Name == name))
                {
                    continue;
                }

                try
                {
                    var pipeline = await parsed.ReadPipelineAsync(file.BlobSha, options.Limits,
                        ct => source.GetBlobAsync(new ManifestFile(e.Forge, e.ManifestRepository, file.Path, e.ManifestRef, e.InstallationId), file.BlobSha, ct),
                        cancellationToken);
                    var skip = await DecideAsync(e, name, pipeline, cancellationToken);
                    if (skip is { } reason)
                    {
                        if (reason.Length > 0)
                        {
                            records.Add(new PipelineRecord(name, PipelineStatus.Skipped, reason));
                        }

                        continue;
                    }

                    var parameters = pipeline.MayMention ? ManifestParameters.For(e, file.Path, repository?.Params, credentials?.Name) : null;
                    var annotated = pipeline.Documents.Select((d, i) => ManifestAnnotator.Annotate(d, e, i, parameters, name, credentials?.Name)).ToList();
                    if (!applying)
                    {
                        // A run slot (concurrencyLimit) is taken only by an event that applies something.
                        await beforeFirstApply();
                        applying = true;
                    }

                    sent.AddRange(annotated);
                    if (credentials is not null)
                    {
                        await credentials.CreateAsync(cancellationToken);
                    }

                    var applied = await applier.ApplyAsync(annotated, e.Delivery, mayHaveRun, cancellationToken);
                    objects.AddRange(applied.Select(o => o with { Pipeline = name }));
                    records.Add(new PipelineRecord(name, PipelineStatus.Applied));
                    if (credentials is not null)
                    {
                        await credentials.OwnAsync(objects, cancellationToken);
                    }
                }
                catch (WaitingForRunSlotException)
                {
                    // Nothing of this attempt was applied: the next one decides again, once the slot is its own.
                    throw;
                }
                catch (PermanentException refused)
                {
                    records.Add(new PipelineRecord(name, PipelineStatus.Failed, $"{file.Path}: {refused.Message}"));
                }
                catch (Exception again)
                {
                    var unsettled = files.Select(f => f.Name).Where(n => !records.Exists(r => r.Name == n)).ToImmutableList();
                    throw new PipelinesUnfinishedException(again, new PipelineProgress(records.ToImmutable(), objects.ToImmutable(), unsettled));
                }
            }
        }
        finally
        {
            if (sent.Count > 0)
            {
                keep(e.Delivery, sent);
            }
        }

        return new ProcessResult(objects.ToImmutable(), records.ToImmutable());
    }

    /// <summary>
    /// The pipeline files of a listing by name, in file-name order. A file whose name is no pipeline name, or two
    /// files of one name, fail the event: its checks would otherwise pass without the pipeline its author meant.
    /// </summary>
    public static IReadOnlyList<(string Name, PipelineFile File)> Pipelines(IReadOnlyList<PipelineFile> listed, string directory, string revision)
    {
        var pipelines = new SortedDictionary<string, PipelineFile>(StringComparer.Ordinal);
        foreach (var file in listed.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            if (!PipelineNames.TryFromFileName(file.Name, out var name))
            {
                continue;
            }

            if (!Names.IsPipeline(name))
            {
                throw new ManifestException($"{directory}/{file.Name} at {revision}: '{name}' is not a pipeline name (lower-case letters, digits and '-', at most 63)");
            }

            if (pipelines.TryGetValue(name, out var other))
            {
                throw new ManifestException($"{directory}/{other.Name} and {directory}/{file.Name} at {revision} are both the pipeline '{name}'");
            }

            pipelines[name] = file;
        }

        return [.. pipelines.Select(p => (p.Key, p.Value))];
    }

    /// <summary>
    /// Null when the pipeline runs; otherwise why not: the reason its check is completed skipped with, or "" when the
    /// event gets no check for it (a re-run or command naming other pipelines, a comment its rules do not answer,
    /// an event that is neither a push nor a pull request's head).
    /// </summary>
    private async Task<string?> DecideAsync(HookEvent e, string name, ParsedPipeline pipeline, CancellationToken cancellationToken)
    {
        if (e.Pipelines is { } only)
        {
            // Named by a re-run of its check, /test NAME or /retest: it runs whatever its rules say.
            return only.Contains(name) ? null : "";
        }

        var rules = pipeline.Rules;
        if (e.CommentLine is not null && !rules.HasCommentRule)
        {
            return "";
        }

        var files = rules.NeedsChangedFiles ? await ChangedAsync(e, cancellationToken) : null;
        var mismatch = rules.Mismatch(PipelineContext.From(e, files));
        return mismatch is null ? null : ReportsSkips(e) ? mismatch : "";
    }

    /// <summary>
    /// Whether pipelines that do not match get a skipped check: for the events whose checks a required check waits
    /// for (a push, a pull request's head), never for a re-run or a command, whose skipped check would hide the
    /// commit's real result of that pipeline.
    /// </summary>
    private static bool ReportsSkips(HookEvent e) =>
        !e.IsRerun && e.Pipelines is null && e.CommentLine is null && e.Meaning.Chain == ChainEffect.Moves;

    /// <summary>
    /// The files the event changed, asked once per attempt: the push's own list when it was complete, else the
    /// forge's comparison of the two commits or the pull request's files; null (unknown) for a new ref and when the
    /// forge cannot say completely.
    /// </summary>
    private async Task<IReadOnlyList<string>?> ChangedAsync(HookEvent e, CancellationToken cancellationToken)
    {
        if (!changedAsked)
        {
            changedAsked = true;
            changed = e.ChangedFiles is { } listed ? listed
                : e.PullRequest > 0 ? await changedFiles.OfPullRequestAsync(e.Forge, e.Repository, e.InstallationId, e.PullRequest, cancellationToken)
                : e.ContinuesChain && e.Revision.Length > 0 ? await changedFiles.BetweenAsync(e.Forge, e.Repository, e.InstallationId, e.Before, e.Revision, cancellationToken)
                : null;
        }

        return changed;
    }
}

using System.Collections.Concurrent;
using System.Text;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Octokit;

namespace CiTrigger.Grains.GitHub;

/// <summary>
/// App mode's report: one check run per event (name <c>GitHub:StatusContext</c>, <c>external_id</c> the
/// delivery, <c>head_sha</c> the revision): queued when accepted, in progress once applied (with the
/// applied objects and the <c>GitHub:StatusTargetUrl</c> link), completed with the outcome. Calls leave
/// from bounded queues on background loops, an event's always from the same loop and so in order; a
/// failing Checks API costs a few retries and a log line, never the event.
/// </summary>
public sealed partial class GitHubCheckRunReporter(
    GitHubAccess github, IOptions<GitHubOptions> options, RetryPolicy retryPolicy, TriggerMetrics metrics, TimeProvider time, ILogger<GitHubCheckRunReporter> logger,
    IRunLogs? runLogs = null)
    : BackgroundService, IResultReporter
{
    private const int MaxSummary = 65_535;
    private const int MaxListed = 100;
    private const int MaxRemembered = 50_000;

    private readonly RetryPolicy retry = retryPolicy.ForReports();

    private readonly ReportLanes<PendingReport> lanes = new(4, 10_000);

    // The check run of each event whose run is not completed yet; an event missing here (another silo
    // accepted it, or this one restarted) is looked up on GitHub by its external_id.
    private readonly ConcurrentDictionary<string, long> runs = new(StringComparer.Ordinal);

    public void Report(HookEvent hookEvent, StatusState state, string description, IReadOnlyList<AppliedObject>? objects = null, string? pipeline = null) =>
        Queue(new PendingReport(hookEvent, state, description, objects ?? [], pipeline, First: false));

    public void ReportFirst(HookEvent hookEvent, StatusState state, string description, IReadOnlyList<AppliedObject>? objects, string pipeline) =>
        Queue(new PendingReport(hookEvent, state, description, objects ?? [], pipeline, First: true));

    private void Queue(PendingReport report)
    {
        var hookEvent = report.Event;
        if (hookEvent.Revision.Length == 0 || GitSha.IsZero(hookEvent.Revision))
        {
            return;
        }

        // One lane per event: its pipelines' checks keep their order among themselves.
        if (!lanes.TryWrite(hookEvent.Delivery, report))
        {
            metrics.StatusReported("dropped");
            Log.Dropped(logger, hookEvent.Delivery);
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => lanes.DrainAsync(async (report, cancellationToken) =>
    {
        // Why a run failed: the object that failed comes with the report, and its log is read off the event's path.
        var log = report.State is StatusState.Failure or StatusState.TimedOut && report.Objects.Count > 0 && runLogs is not null
            ? await runLogs.FailedLogAsync(report.Objects[0], cancellationToken)
            : null;
        var first = report.First;
        foreach (var step in Steps(report, log))
        {
            if (!await PostAsync(report.Event, report.Pipeline, step, first, cancellationToken))
            {
                break;
            }

            first = false;
        }
    }, stoppingToken);

    /// <summary>What GitHub is told for one report, in order.</summary>
    private IEnumerable<Step> Steps(PendingReport report, RunLog? log)
    {
        var e = report.Event;
        var settings = options.Value;
        switch (report.State)
        {
            case StatusState.Pending:
                // Plainly queued says nothing more; a check that waits (for an approval's word, a run slot) says for what.
                yield return new Step("queued", null, null, report.Description == "queued" ? null : new NewCheckRunOutput("queued", Truncate(report.Description)));
                break;
            case StatusState.Running:
                yield return InProgress(report, settings);
                break;
            case StatusState.Success:
                // An event without run objects completes when it is applied, so it passes through
                // in_progress here; a followed run was put in progress when it was applied.
                var progress = report.Objects.Count > 0 ? InProgress(report, settings) : null;
                if (progress is not null)
                {
                    yield return progress;
                }

                yield return new Step("completed", CheckConclusion.Success, progress?.DetailsUrl, progress?.Output ?? new NewCheckRunOutput(report.Description, Truncate(report.Description)));
                break;
            case StatusState.Cancelled:
                yield return new Step("completed", CheckConclusion.Cancelled, null, new NewCheckRunOutput("cancelled", Truncate(report.Description)));
                break;
            case StatusState.TimedOut:
                yield return new Step("completed", CheckConclusion.TimedOut, null, WithLog(new NewCheckRunOutput("timed out", Truncate(report.Description)), log));
                break;
            case StatusState.ActionRequired:
                // GitHub wants a page that says what to do: the configured link, else the pull request.
                var page = GitHubCommitStatusReporter.TargetUrl(settings.StatusTargetUrl, e, null) ?? PullRequestPage(e);
                yield return new Step("completed", CheckConclusion.ActionRequired, page, new NewCheckRunOutput("waiting for approval", Truncate(report.Description)));
                break;
            case StatusState.Failure:
                yield return new Step("completed", CheckConclusion.Failure, null, WithLog(new NewCheckRunOutput("failed", Truncate(report.Description)), log));
                break;
            case StatusState.Skipped:
                yield return new Step("completed", CheckConclusion.Skipped, null, new NewCheckRunOutput("skipped", Truncate(report.Description)));
                break;
            default:
                yield return new Step("completed", CheckConclusion.Cancelled, null, new NewCheckRunOutput("skipped", Truncate(report.Description)));
                break;
        }
    }

    private static Step InProgress(PendingReport report, GitHubOptions settings) =>
        new("in_progress", null,
            GitHubCommitStatusReporter.TargetUrl(settings.StatusTargetUrl, report.Event, report.Objects.Count > 0 ? report.Objects[0] : null),
            new NewCheckRunOutput(report.Description, Summary(report.Objects)));

    /// <summary>The pull request's page on GitHub, from the repository's URL (<c>git://github.com/o/r.git</c> or <c>https://…</c>).</summary>
    private static string? PullRequestPage(HookEvent e) =>
        e.PullRequest > 0 && Uri.TryCreate(e.RepoUrl, UriKind.Absolute, out var repo) && repo.Scheme is "git" or "https" or "http"
            ? FormattableString.Invariant($"https://{repo.Authority}{(repo.AbsolutePath.EndsWith(".git", StringComparison.Ordinal) ? repo.AbsolutePath[..^4] : repo.AbsolutePath)}/pull/{e.PullRequest}")
            : null;

    private static string Summary(IReadOnlyList<AppliedObject> objects)
    {
        if (objects.Count == 0)
        {
            return "The manifest was applied.";
        }

        var summary = new StringBuilder("Applied:\n\n");
        foreach (var o in objects.Take(MaxListed))
        {
            summary.Append("- ").Append(o.Kind).Append(' ').Append(o.Namespace is { Length: > 0 } ns ? ns + "/" : "").Append(o.Name).Append('\n');
        }

        if (objects.Count > MaxListed)
        {
            summary.Append("- … and ").Append(objects.Count - MaxListed).Append(" more\n");
        }

        return Truncate(summary.ToString());
    }

    /// <summary>The output with the failed container's log as its text (GitHub's limit of 65,535 characters kept).</summary>
    private static NewCheckRunOutput WithLog(NewCheckRunOutput output, RunLog? log)
    {
        if (log is not null)
        {
            output.Text = RunLogText.Markdown(log, MaxSummary);
        }

        return output;
    }

    private static string Truncate(string text) => text.Length <= MaxSummary ? text : text[..(MaxSummary - 1)] + "…";

    /// <summary>Posts one step, retried by the shared policy; false when it could not be posted (later steps of the report are dropped).</summary>
    private async Task<bool> PostAsync(HookEvent e, string? pipeline, Step step, bool create, CancellationToken stoppingToken)
    {
        var (owner, name) = Names.SplitRepository(e.Repository);
        var failure = await retry.RunAsync(async cancellationToken =>
        {
            try
            {
                var client = await github.ForRepositoryAsync(e.Repository, e.InstallationId, cancellationToken);
                await SendAsync(client, owner, name, e, pipeline, step, create).WaitAsync(cancellationToken);
            }
            catch (Exception error) when (GitHubFailures.Classify(error, $"the check run of {e.Delivery}") is { } classified)
            {
                throw classified;
            }
        }, time, stoppingToken);
        metrics.StatusReported(failure is null ? "posted" : "failed");
        if (failure is not null)
        {
            Log.Failed(logger, failure, step.Status, e.Delivery, e.Repository, e.Revision);
        }

        return failure is null;
    }

    // With create, the check cannot exist yet (a pipeline's first report): it is created without looking for it.
    private async Task SendAsync(IGitHubClient client, string owner, string name, HookEvent e, string? pipeline, Step step, bool create)
    {
        var context = PipelineChecks.Name(options.Value.StatusContext, pipeline);
        var externalId = PipelineChecks.ExternalId(e.Delivery, pipeline);
        var id = runs.TryGetValue(externalId, out var known) ? known
            : step.Status == "queued" || create ? (long?)null
            : await FindAsync(client, owner, name, e, context, externalId);
        if (id is null)
        {
            var run = new NewCheckRun(context, e.Revision) { ExternalId = externalId, DetailsUrl = step.DetailsUrl, Output = step.Output };
            if (step.Conclusion is { } conclusion)
            {
                (run.Conclusion, run.CompletedAt) = (conclusion, time.GetUtcNow());
            }
            else
            {
                run.Status = Status(step.Status);
            }

            id = (await client.Check.Run.Create(owner, name, run)).Id;
        }
        else
        {
            var update = new CheckRunUpdate { DetailsUrl = step.DetailsUrl, Output = step.Output };
            if (step.Conclusion is { } conclusion)
            {
                (update.Conclusion, update.CompletedAt) = (conclusion, time.GetUtcNow());
            }
            else
            {
                update.Status = Status(step.Status);
            }

            await client.Check.Run.Update(owner, name, id.Value, update);
        }

        if (step.Conclusion is null)
        {
            if (runs.Count >= MaxRemembered)
            {
                // Events that never completed here (their ref moved to another silo) must not pile up; the
                // ids of the others are found again by external_id.
                runs.Clear();
            }

            runs[externalId] = id.Value;
        }
        else
        {
            runs.TryRemove(externalId, out _);
        }
    }

    private static async Task<long?> FindAsync(IGitHubClient client, string owner, string name, HookEvent e, string context, string externalId)
    {
        var found = await client.Check.Run.GetAllForReference(owner, name, e.Revision,
            new CheckRunRequest { CheckName = context, Filter = CheckRunCompletedAtFilter.All });
        // A pull request held for approval completes one check run and gets a new one once approved: the newest is the event's.
        return found.CheckRuns.Where(r => r.ExternalId == externalId).MaxBy(r => r.Id)?.Id;
    }

    private static CheckStatus Status(string status) => status switch
    {
        "queued" => CheckStatus.Queued,
        "in_progress" => CheckStatus.InProgress,
        _ => CheckStatus.Completed,
    };

    private sealed record PendingReport(HookEvent Event, StatusState State, string Description, IReadOnlyList<AppliedObject> Objects, string? Pipeline, bool First);

    private sealed record Step(string Status, CheckConclusion? Conclusion, string? DetailsUrl, NewCheckRunOutput? Output);

    private static partial class Log
    {
        [LoggerMessage(52, LogLevel.Warning, "Could not report {Step} in the check run of {Delivery} on {Repository} at {Revision}; the event is not affected")]
        public static partial void Failed(ILogger logger, Exception error, string step, string delivery, string repository, string revision);

        [LoggerMessage(53, LogLevel.Warning, "Check run queue full; the report of {Delivery} was dropped")]
        public static partial void Dropped(ILogger logger, string delivery);
    }
}

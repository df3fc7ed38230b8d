using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Octokit;

namespace CiTrigger.Grains.GitHub;

/// <summary>
/// Posts commit statuses from bounded queues on a few background loops: the statuses of one commit always
/// from the same loop, in the order they were reported, so "pending" always precedes the outcome of the same
/// event (and an older event's outcome never lands after a newer one's on the same commit); other commits'
/// statuses do not wait behind it. While a loop is behind, a status already superseded by a newer one of the
/// same commit is not posted (GitHub shows the newest of a context). A failing or slow status API costs at most a few retries and a log line;
/// when a queue is full, new statuses are dropped and counted.
/// </summary>
public sealed partial class GitHubCommitStatusReporter(
    IGitHubClient client, IOptions<GitHubOptions> options, RetryPolicy retry, TimeProvider time, TriggerMetrics metrics, ILogger<GitHubCommitStatusReporter> logger)
    : BackgroundService, IResultReporter
{
    /// <summary>Loops posting at once; the statuses of one commit (<see cref="LaneKey"/>) share one.</summary>
    public const int Lanes = 4;

    private readonly RetryPolicy statusRetry = retry.ForReports();
    private readonly ReportLanes<(HookEvent Event, NewCommitStatus Status)> lanes = new(Lanes, 10_000, latestOnly: true);

    public void Report(HookEvent hookEvent, StatusState state, string description, IReadOnlyList<AppliedObject>? objects = null, string? pipeline = null)
    {
        if (hookEvent.Revision.Length == 0 || GitSha.IsZero(hookEvent.Revision))
        {
            return;
        }

        var settings = options.Value;
        var status = new NewCommitStatus
        {
            State = state switch
            {
                StatusState.Pending or StatusState.ActionRequired or StatusState.Running => CommitState.Pending,
                StatusState.Success or StatusState.Skipped => CommitState.Success,
                StatusState.Failure or StatusState.TimedOut => CommitState.Failure,
                _ => CommitState.Error,
            },
            Context = PipelineChecks.Name(settings.StatusContext, pipeline),
            Description = description.Length <= 140 ? description : description[..139] + "…",
            TargetUrl = TargetUrl(settings.StatusTargetUrl, hookEvent, objects is { Count: > 0 } ? objects[0] : null),
        };
        // A commit's statuses of one context replace each other while they wait; each pipeline is a context of its own.
        if (!lanes.TryWrite(LaneKey(hookEvent.Repository, hookEvent.Revision) + (pipeline is null ? "" : "/" + pipeline), (hookEvent, status), out var replaced))
        {
            metrics.StatusReported("dropped");
            Log.Dropped(logger, hookEvent.Delivery);
        }
        else if (replaced.Any)
        {
            metrics.StatusReported("superseded");
        }
    }

    public static string LaneKey(string repository, string revision) => repository + "@" + revision;

    public static string? TargetUrl(string? template, HookEvent e, AppliedObject? first) =>
        StatusTargetUrl.Expand(template, e.Delivery, e.Key, e.Repository, e.Ref, e.Revision, first);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        lanes.DrainAsync((report, cancellationToken) => PostAsync(report.Event, report.Status, cancellationToken), stoppingToken);

    private async Task PostAsync(HookEvent e, NewCommitStatus status, CancellationToken stoppingToken)
    {
        var (owner, name) = Names.SplitRepository(e.Repository);
        var failure = await statusRetry.RunAsync(async cancellationToken =>
        {
            try
            {
                await client.Repository.Status.Create(owner, name, e.Revision, status).WaitAsync(cancellationToken);
            }
            catch (Exception error) when (GitHubFailures.Classify(error, $"the status of {e.Revision}") is { } classified)
            {
                throw classified;
            }
        }, time, stoppingToken);
        metrics.StatusReported(failure is null ? "posted" : "failed");
        if (failure is not null)
        {
            Log.Failed(logger, failure, e.Delivery, e.Repository, e.Revision);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(50, LogLevel.Warning, "Could not report the commit status of {Delivery} on {Repository} at {Revision}; the event is not affected")]
        public static partial void Failed(ILogger logger, Exception error, string delivery, string repository, string revision);

        [LoggerMessage(51, LogLevel.Warning, "Commit status queue full; the status of {Delivery} was dropped")]
        public static partial void Dropped(ILogger logger, string delivery);
    }
}

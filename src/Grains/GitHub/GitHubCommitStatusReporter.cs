using System.Threading.Channels;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Octokit;

namespace CiTrigger.Grains.GitHub;

/// <summary>
/// Posts commit statuses from a bounded queue on a background loop, in the order they were reported, so
/// "pending" always precedes the outcome of the same event. A failing or slow status API costs at most a
/// few retries and a log line; when the queue is full, new statuses are dropped and counted.
/// </summary>
public sealed partial class GitHubCommitStatusReporter(
    IGitHubClient client, IOptions<GitHubOptions> options, RetryPolicy retry, TimeProvider time, TriggerMetrics metrics, ILogger<GitHubCommitStatusReporter> logger)
    : BackgroundService, ICommitStatusReporter
{
    private const int Capacity = 10_000;

    // Statuses are posted one after another: a few attempts each, so a failing API cannot hold the rest for long.
    private readonly RetryPolicy statusRetry = retry.WithMaxAttempts(3);
    private readonly Channel<(HookEvent Event, NewCommitStatus Status)> queue =
        Channel.CreateBounded<(HookEvent, NewCommitStatus)>(new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    public void Report(HookEvent hookEvent, StatusState state, string description, IReadOnlyList<AppliedObject>? objects = null)
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
                StatusState.Success => CommitState.Success,
                StatusState.Failure or StatusState.TimedOut => CommitState.Failure,
                _ => CommitState.Error,
            },
            Context = settings.StatusContext,
            Description = description.Length <= 140 ? description : description[..139] + "…",
            TargetUrl = TargetUrl(settings.StatusTargetUrl, hookEvent, objects is { Count: > 0 } ? objects[0] : null),
        };
        if (!queue.Writer.TryWrite((hookEvent, status)))
        {
            metrics.StatusReported("dropped");
            Log.Dropped(logger, hookEvent.Delivery);
        }
    }

    public static string? TargetUrl(string? template, HookEvent e, AppliedObject? first) =>
        StatusTargetUrl.Expand(template, e.Delivery, e.Key, e.Repository, e.Ref, e.Revision, first);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var (hookEvent, status) in queue.Reader.ReadAllAsync(stoppingToken))
        {
            await PostAsync(hookEvent, status, stoppingToken);
        }
    }

    private async Task PostAsync(HookEvent e, NewCommitStatus status, CancellationToken stoppingToken)
    {
        var slash = e.Repository.IndexOf('/', StringComparison.Ordinal);
        var failure = await statusRetry.RunAsync(async cancellationToken =>
        {
            try
            {
                await client.Repository.Status.Create(e.Repository[..slash], e.Repository[(slash + 1)..], e.Revision, status).WaitAsync(cancellationToken);
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

using System.Collections.Immutable;
using System.Diagnostics;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// How one attempt ended: the applied objects (and in pipeline mode what became of each pipeline), or the error and
/// whether it is worth another try, with what the attempt settled before it failed (<see cref="Progress"/>, pipeline mode).
/// </summary>
public sealed record AttemptResult(IReadOnlyList<AppliedObject>? Objects, Exception? Error, AttemptRecord Record)
{
    public ImmutableList<PipelineRecord>? Pipelines { get; init; }

    public PipelineProgress? Progress { get; init; }
}

/// <summary>
/// One attempt at one event under its own deadline (<c>Handler:AttemptTimeout</c>): runs the processor,
/// describes a failure in the words the history keeps, and counts it.
/// </summary>
public sealed partial class AttemptRunner(
    EventProcessor processor, IOptions<RetryOptions> options, TriggerMetrics metrics, IHostApplicationLifetime lifetime,
    TimeProvider time, ILogger<AttemptRunner> logger)
{
    /// <summary>The attempt's result; null when it was cut short because the silo or the ref is going away, so it does not count.</summary>
    /// <param name="entry">The pending event.</param>
    /// <param name="mayHaveRun">Whether an earlier attempt may have applied part of it.</param>
    /// <param name="deactivating">Cancelled when the ref is deactivating.</param>
    public async Task<AttemptResult?> RunAsync(PendingEvent entry, bool mayHaveRun, CancellationToken deactivating)
    {
        var e = entry.Event;
        var timeout = options.Value.AttemptTimeout;
        using var scope = logger.BeginScope(EventScope.Of(e));
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping, deactivating);
        attempt.CancelAfter(timeout);
        var started = time.GetUtcNow();
        var watch = Stopwatch.StartNew();
        try
        {
            var result = await processor.ProcessAsync(e, mayHaveRun, entry.Progress, attempt.Token);
            Log.Applied(logger, e.Delivery, e.Repository, e.Ref, e.Revision, result.Objects.Count, watch.ElapsedMilliseconds);
            metrics.Attempted(watch.Elapsed, "applied");
            return new AttemptResult(result.Objects, null, new AttemptRecord(started, watch.Elapsed, null, false)) { Pipelines = result.Pipelines };
        }
        catch (Exception error) when (lifetime.ApplicationStopping.IsCancellationRequested || deactivating.IsCancellationRequested)
        {
            Log.Abandoned(logger, error, e.Delivery);
            return null;
        }
        catch (WaitingForRunSlotException waiting)
        {
            // Not a failure and not counted as an attempt: the ref waits for its repository to hand it a slot.
            Log.Waiting(logger, e.Delivery, e.Repository, waiting.Message);
            return new AttemptResult(null, waiting, new AttemptRecord(started, watch.Elapsed, waiting.Message, true));
        }
        catch (PipelinesUnfinishedException unfinished)
        {
            return Failed(entry, attempt, unfinished.InnerException!, started, watch) with { Progress = unfinished.Progress };
        }
        catch (Exception error)
        {
            return Failed(entry, attempt, error, started, watch);
        }
    }

    private AttemptResult Failed(PendingEvent entry, CancellationTokenSource attempt, Exception error, DateTimeOffset started, Stopwatch watch)
    {
        var e = entry.Event;
        var timeout = options.Value.AttemptTimeout;
        var message = attempt.IsCancellationRequested ? $"the attempt timed out after {timeout.TotalSeconds:0.#} s" : Describe(error);
        var transient = RetryPolicy.IsTransient(error);
        metrics.Attempted(watch.Elapsed, transient ? "transient" : "permanent");
        Log.AttemptFailed(logger, e.Delivery, e.Repository, e.Ref, entry.Attempts.Count + 1, transient, message);
        return new AttemptResult(null, error, new AttemptRecord(started, watch.Elapsed, message, transient));
    }

    /// <summary>The words a failure is recorded with: our own exceptions speak for themselves, others say what they are.</summary>
    public static string Describe(Exception e)
    {
        var message = e.Message.Length <= 1000 ? e.Message : e.Message[..1000] + "…";
        return e is PermanentException or TransientException ? message : $"{e.GetType().Name}: {message}";
    }

    private static partial class Log
    {
        [LoggerMessage(3, LogLevel.Information, "Applied {Delivery} for {Repository} {Ref} at {Revision}: {Objects} objects in {ElapsedMs} ms")]
        public static partial void Applied(ILogger logger, string delivery, string repository, string @ref, string revision, int objects, long elapsedMs);

        [LoggerMessage(4, LogLevel.Warning, "Attempt {Attempt} for {Delivery} ({Repository} {Ref}) failed, transient: {Transient}: {Error}")]
        public static partial void AttemptFailed(ILogger logger, string delivery, string repository, string @ref, int attempt, bool transient, string error);

        [LoggerMessage(184, LogLevel.Information, "{Delivery} of {Repository} waits: {Reason}")]
        public static partial void Waiting(ILogger logger, string delivery, string repository, string reason);

        [LoggerMessage(5, LogLevel.Information, "Attempt for {Delivery} abandoned because the silo is stopping; it will run again")]
        public static partial void Abandoned(ILogger logger, Exception error, string delivery);
    }
}

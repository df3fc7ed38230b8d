using System.Diagnostics.Metrics;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Telemetry;

/// <summary>
/// The processing side's instruments (meter <see cref="MeterName"/>, shared with the gateway's): what was
/// processed and how long it took. Exported at <c>/metrics</c> beside the Orleans runtime's meters.
/// </summary>
public sealed class TriggerMetrics
{
    public const string MeterName = MeterNames.Service;

    private readonly Counter<long> processed;
    private readonly Counter<long> retries;
    private readonly Counter<long> statuses;
    private readonly Counter<long> recovered;
    private readonly UpDownCounter<long> queueDepth;
    private readonly Histogram<double> processing;
    private readonly Histogram<double> endToEnd;
    private readonly Counter<long> runsFinished;
    private readonly Histogram<double> runDuration;
    private readonly Counter<long> runsPruned;

    public TriggerMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        processed = meter.CreateCounter<long>("citrigger.events.processed", "{event}", "Events finished, by outcome");
        retries = meter.CreateCounter<long>("citrigger.events.retries", "{attempt}", "Failed attempts that will be tried again");
        statuses = meter.CreateCounter<long>("citrigger.github.statuses", "{status}", "Commit statuses (check-run calls in App mode), by result: posted, failed, dropped, superseded (a newer status of the same commit was waiting)");
        recovered = meter.CreateCounter<long>("citrigger.deliveries.recovered", "{delivery}", "Redeliveries requested from GitHub for deliveries the service missed");
        queueDepth = meter.CreateUpDownCounter<long>("citrigger.queue.depth", "{event}", "Events accepted and not yet finished");
        processing = meter.CreateHistogram<double>("citrigger.processing.duration", "s", "Duration of one processing attempt",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        endToEnd = meter.CreateHistogram<double>("citrigger.events.end_to_end.duration", "s", "Time from acknowledgement to the end of processing",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800] });
        runsFinished = meter.CreateCounter<long>("citrigger.runs.finished", "{run}", "Followed runs finished, by result: success, failure, cancelled, timed_out");
        runDuration = meter.CreateHistogram<double>("citrigger.run.duration", "s", "Time from applying an event to the end of its run",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600] });
        runsPruned = meter.CreateCounter<long>("citrigger.runs.pruned", "{object}", "Finished run objects deleted beyond a repository's keepRuns, by kind: Workflow, Job, PipelineRun, TaskRun");
    }

    /// <summary>Activations add their pending events when they load them and remove them when they go.</summary>
    public void QueueDepthChanged(int delta) => queueDepth.Add(delta);

    public void Attempted(TimeSpan duration, string result) =>
        processing.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("result", result));

    public void Retrying() => retries.Add(1);

    public void DeliveryRecovered() => recovered.Add(1);

    public void StatusReported(string result) => statuses.Add(1, new KeyValuePair<string, object?>("result", result));

    public void Finished(string outcome, TimeSpan endToEndDuration)
    {
        processed.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        endToEnd.Record(endToEndDuration.TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome));
    }

    /// <summary>A followed run finished; <paramref name="result"/> is one of the check conclusion words.</summary>
    public void RunFinished(RunResult result, TimeSpan duration)
    {
        var label = new KeyValuePair<string, object?>("result", RunResults.Word(result));
        runsFinished.Add(1, label);
        runDuration.Record(Math.Max(0, duration.TotalSeconds), label);
    }

    /// <summary>A finished run object of <paramref name="kind"/> (one of <c>RunKinds</c>) was deleted beyond its repository's <c>keepRuns</c>.</summary>
    public void RunPruned(string kind) => runsPruned.Add(1, new KeyValuePair<string, object?>("kind", kind));
}

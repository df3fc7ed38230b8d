using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// Pipeline mode's checks: one per pipeline of an event, named <c>{GitHub:StatusContext}/{pipeline}</c> by the
/// reporters. A pipeline that did not match completes skipped with the rule that did not hold, one that failed
/// fails with why, one that applied runs (its run objects followed) or succeeds at once (none to follow).
/// </summary>
public static class PipelineReports
{
    /// <summary>The reports of an event's pipelines once it was processed.</summary>
    public static void Report(IResultReporter statuses, HookEvent e, IEnumerable<PipelineRecord> pipelines, IReadOnlyList<AppliedObject> objects, RunRecord? run)
    {
        foreach (var pipeline in pipelines)
        {
            switch (pipeline.Status)
            {
                case PipelineStatus.Skipped:
                    statuses.ReportFirst(e, StatusState.Skipped, "skipped: " + pipeline.Reason, null, pipeline.Name);
                    break;
                case PipelineStatus.Failed:
                    statuses.ReportFirst(e, StatusState.Failure, pipeline.Reason ?? "failed", null, pipeline.Name);
                    break;
                default:
                    var mine = objects.Where(o => o.Pipeline == pipeline.Name).ToList();
                    if (run is not null && run.Part(pipeline.Name) is { } part)
                    {
                        var (state, description) = RunBook.Report(part);
                        statuses.ReportFirst(e, state, description, state is StatusState.Failure or StatusState.TimedOut && part.FailedObject() is { } failed ? [failed] : mine, pipeline.Name);
                    }
                    else
                    {
                        statuses.ReportFirst(e, StatusState.Success, StatusReporting.AppliedDescription(mine), mine, pipeline.Name);
                    }

                    break;
            }
        }
    }
}

using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Pipeline;

/// <summary>The commit status states GitHub knows.</summary>
public enum StatusState
{
    Pending,
    Success,
    Failure,
    Error,

    /// <summary>Waiting for approval: a check run's <c>action_required</c>, a commit status <c>pending</c>.</summary>
    ActionRequired,

    /// <summary>Applied, its run objects still running: a check run <c>in_progress</c>, a commit status <c>pending</c>.</summary>
    Running,

    /// <summary>Its run was stopped or deleted: a check run's <c>cancelled</c>, a commit status <c>error</c>.</summary>
    Cancelled,

    /// <summary>Its run outlived <c>Handler:RunTimeout</c>: a check run's <c>timed_out</c>, a commit status <c>failure</c>.</summary>
    TimedOut,

    /// <summary>
    /// A pipeline whose rules did not match (or a waiting check an approval made moot): a check run's
    /// <c>skipped</c>, a commit status <c>success</c> whose description says so, so a required check never waits.
    /// </summary>
    Skipped,
}

/// <summary>
/// Tells the forge how an event is doing (its result), without ever making the event wait or fail: on GitHub
/// as commit statuses in token mode, as check runs in App mode.
/// </summary>
public interface IResultReporter
{
    /// <summary>
    /// Queues a report for the event's revision; returns at once. Events without a revision are not reported. With
    /// <paramref name="pipeline"/> (pipeline mode) the report is that pipeline's check: named
    /// <c>{GitHub:StatusContext}/{pipeline}</c>, its <c>external_id</c> <c>{delivery}/{pipeline}</c>.
    /// </summary>
    void Report(HookEvent hookEvent, StatusState state, string description, IReadOnlyList<AppliedObject>? objects = null, string? pipeline = null);

    /// <summary>
    /// As <see cref="Report"/>, for the first report of a pipeline's check, made once when its event is processed: no
    /// check of that name and <c>external_id</c> can exist yet, so a reporter that would look for one (on another
    /// silo's behalf) need not.
    /// </summary>
    void ReportFirst(HookEvent hookEvent, StatusState state, string description, IReadOnlyList<AppliedObject>? objects, string pipeline) =>
        Report(hookEvent, state, description, objects, pipeline);
}

/// <summary>Used when <c>GitHub:ReportStatus</c> is off.</summary>
public sealed class NoResultReports : IResultReporter
{
    public void Report(HookEvent hookEvent, StatusState state, string description, IReadOnlyList<AppliedObject>? objects = null, string? pipeline = null)
    {
    }
}

/// <summary>The words and states an event's end is reported with, the same for every reporter.</summary>
public static class StatusReporting
{
    /// <summary>"applied Kind name and N more": what an applied event (or pipeline) without a followed run reports.</summary>
    public static string AppliedDescription(IReadOnlyList<AppliedObject> objects) =>
        objects.Count == 0 ? "applied" : $"applied {objects[0].Kind} {objects[0].Name}" + (objects.Count > 1 ? $" and {objects.Count - 1} more" : "");

    public static void ReportOutcome(this IResultReporter statuses, HookEvent e, Outcome outcome, string? error, IReadOnlyList<AppliedObject> objects)
    {
        switch (outcome)
        {
            case Outcome.Applied:
                statuses.Report(e, StatusState.Success, AppliedDescription(objects), objects);
                break;
            case Outcome.Failed:
                statuses.Report(e, StatusState.Failure, error ?? "failed");
                break;
            default:
                statuses.Report(e, StatusState.Error, error ?? "skipped");
                break;
        }
    }
}

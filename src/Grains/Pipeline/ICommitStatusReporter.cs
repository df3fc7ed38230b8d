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
}

/// <summary>Tells GitHub how an event is doing, without ever making the event wait or fail.</summary>
public interface ICommitStatusReporter
{
    /// <summary>Queues a status for the event's revision; returns at once. Events without a revision are not reported.</summary>
    void Report(HookEvent hookEvent, StatusState state, string description, AppliedObject? firstObject = null);
}

/// <summary>Used when <c>GitHub:ReportStatus</c> is off.</summary>
public sealed class NoCommitStatuses : ICommitStatusReporter
{
    public void Report(HookEvent hookEvent, StatusState state, string description, AppliedObject? firstObject = null)
    {
    }
}

/// <summary>The words and states an event's end is reported with, the same for every reporter.</summary>
public static class StatusReporting
{
    public static void ReportOutcome(this ICommitStatusReporter statuses, HookEvent e, Outcome outcome, string? error, IReadOnlyList<AppliedObject> objects)
    {
        var first = objects.Count > 0 ? objects[0] : null;
        switch (outcome)
        {
            case Outcome.Applied:
                var description = first is null ? "applied" : $"applied {first.Kind} {first.Name}" + (objects.Count > 1 ? $" and {objects.Count - 1} more" : "");
                statuses.Report(e, StatusState.Success, description, first);
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

using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.GitHub;

/// <summary>The commit status states GitHub knows.</summary>
public enum StatusState
{
    Pending,
    Success,
    Failure,
    Error,
}

/// <summary>
/// Tells GitHub how an event is doing, without ever making the event wait or fail: commit statuses in
/// token mode, check runs in App mode.
/// </summary>
public interface ICommitStatusReporter
{
    /// <summary>Queues a report for the event's revision; returns at once. Events without a revision are not reported.</summary>
    void Report(HookEvent hookEvent, StatusState state, string description, IReadOnlyList<AppliedObject>? objects = null);
}

/// <summary>Used when <c>GitHub:ReportStatus</c> is off.</summary>
public sealed class NoCommitStatuses : ICommitStatusReporter
{
    public void Report(HookEvent hookEvent, StatusState state, string description, IReadOnlyList<AppliedObject>? objects = null)
    {
    }
}

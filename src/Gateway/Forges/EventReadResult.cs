using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Gateway.Forges;

/// <summary>What a webhook payload amounts to: an event to queue, a reason to ignore it, or a reason to refuse it.</summary>
public abstract record EventReadResult
{
    private EventReadResult()
    {
    }

    public sealed record Accepted(HookEvent Event) : EventReadResult;

    public sealed record Ignored(string Reason) : EventReadResult;

    public sealed record Rejected(string Reason) : EventReadResult;

    /// <summary>
    /// A request to run a finished event of <paramref name="Repository"/> again: the delivery a check run's
    /// <c>external_id</c> names, or the newest event at <paramref name="Revision"/> in <paramref name="Ref"/>.
    /// <paramref name="Otherwise"/> is how the payload reads when there is no such event to re-run.
    /// </summary>
    public sealed record RerunRequested(string Repository, string? Delivery, string? Ref, string Revision, EventReadResult Otherwise) : EventReadResult
    {
        /// <summary>Pipeline mode: the one pipeline of the event to run again (its check's <c>external_id</c> named it).</summary>
        public string? Pipeline { get; init; }
    }
}

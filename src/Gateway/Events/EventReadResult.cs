using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Gateway.Events;

/// <summary>What a webhook payload amounts to: an event to queue, a reason to ignore it, or a reason to refuse it.</summary>
public abstract record EventReadResult
{
    private EventReadResult()
    {
    }

    public sealed record Accepted(HookEvent Event) : EventReadResult;

    public sealed record Ignored(string Reason) : EventReadResult;

    public sealed record Rejected(string Reason) : EventReadResult;
}

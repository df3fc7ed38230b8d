using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Processing;

namespace CiTrigger.Tests.Support;

/// <summary>Steps of a ref's life that the tests of its parts share: an event accepted and attempted, what the cluster reports.</summary>
public static class RefSteps
{
    /// <summary>Accepts <paramref name="e"/> and records <paramref name="attempt"/> as its attempt, in the push chain.</summary>
    public static async Task ApplyAsync(RefEvents events, HookEvent e, AttemptResult attempt)
    {
        await events.AddAsync(e);
        await events.RecordAsync(events.Pending.Single(p => p.Event.Delivery == e.Delivery), attempt, outOfChain: false);
    }

    /// <summary>What the cluster reports about <paramref name="o"/>, an object of <paramref name="delivery"/> in <see cref="HookEvents"/>' ref.</summary>
    public static RunObjectState State(string delivery, AppliedObject o, RunResult result, string? message = null) =>
        new(delivery, HookEvents.Repository, HookEvents.Ref, o.ApiVersion, o.Kind, o.Namespace, o.Name, result, message);
}

namespace CiTrigger.Grains.Abstractions;

/// <summary>What an event does to its ref's chain of revisions (see <see cref="HookEvent.MovesChain"/>).</summary>
public enum ChainEffect
{
    /// <summary>Leaves the chain as it is: a check run, a check suite, an approval or re-test command.</summary>
    None = 0,

    /// <summary>Takes its place in the chain by its <c>Before</c> and moves the chain to its <c>Revision</c>: a push, a pull request's new head.</summary>
    Moves = 1,

    /// <summary>Takes its place in the chain by its <c>Before</c> and ends it, so the next event starts a new one: a push that deletes its branch, a closed pull request.</summary>
    Ends = 2,

    /// <summary>Ends the chain without taking a place in it: a branch or tag deleted.</summary>
    Clears = 3,
}

/// <summary>
/// What an event means to its ref, decided once by the reader of the forge it came from, so nothing after
/// the reader compares event names: its effect on the ref's chain, and whether it tears the ref down (the
/// manifest runs for a ref that is gone; with <c>Handler:CancelSuperseded</c> it stops the ref's running objects).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record EventMeaning(
    [property: Id(0)] ChainEffect Chain,
    [property: Id(1)] bool Teardown)
{
    /// <summary>An event that leaves the ref as it is.</summary>
    public static readonly EventMeaning None = new(ChainEffect.None, false);

    /// <summary>A new revision of the ref.</summary>
    public static readonly EventMeaning Moves = new(ChainEffect.Moves, false);

    /// <summary>The last event of a ref that is gone, in its chain.</summary>
    public static readonly EventMeaning Ends = new(ChainEffect.Ends, true);

    /// <summary>The removal of a ref, outside its chain.</summary>
    public static readonly EventMeaning Clears = new(ChainEffect.Clears, true);

    /// <summary>
    /// The meaning of an event stored before readers decided it (a <see cref="HookEvent"/> without its
    /// <c>Id(26)</c>): derived from GitHub's event names exactly as the code of that time did, so a queue or a
    /// history written by an older version drains and tears down as it would have. This is the one place
    /// outside a reader that compares event names; an event read today never comes here.
    /// </summary>
    internal static EventMeaning OfStored(HookEvent e)
    {
        var pullRequest = e.EventType == "pull_request" && !e.IsCommand;
        var chain = e.EventType switch
        {
            "push" => e.RefDeleted ? ChainEffect.Ends : ChainEffect.Moves,
            "delete" => ChainEffect.Clears,
            _ when pullRequest => e.Action == "closed" ? ChainEffect.Ends : ChainEffect.Moves,
            _ => ChainEffect.None,
        };
        return new EventMeaning(chain, e.RefDeleted || (pullRequest && e.Action == "closed"));
    }
}

using System.Collections.Immutable;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Processing;

/// <summary>Which pending event goes next, and whether it has to wait.</summary>
/// <param name="Index">Position in the queue of the event to process, or -1 to wait.</param>
/// <param name="WaitUntil">When to look again, if waiting.</param>
/// <param name="OutOfChain">The event is a push whose predecessor never arrived within the window.</param>
public readonly record struct NextEvent(int Index, DateTimeOffset? WaitUntil, bool OutOfChain);

/// <summary>
/// Arrival order, corrected for pushes (and a pull request's events, which chain the same way): GitHub does not promise delivery order, but each push names
/// the commit it started from. A queued push that the head push started from goes before it; a push at
/// the head whose <c>before</c> is not the ref's last applied commit waits up to the reorder window for
/// its predecessor, and a queued push that does continue the chain goes first. A ref with no history,
/// and every non-push event, never waits.
/// </summary>
public static class QueueOrder
{
    public static NextEvent Pick(ImmutableList<PendingEvent> pending, string lastAfter, DateTimeOffset now, TimeSpan window)
    {
        if (pending.IsEmpty)
        {
            return new NextEvent(-1, null, false);
        }

        // The head, or the earliest push of the chain it continues that is already queued.
        var head = pending[0];
        var root = EarliestQueuedPredecessor(pending, 0);
        if (!IsOutOfChain(pending[root].Event, lastAfter))
        {
            return new NextEvent(root, null, false);
        }

        var successor = pending.FindIndex(p => p.Event.MovesChain && p.Event.Before == lastAfter);
        if (successor >= 0)
        {
            return new NextEvent(successor, null, false);
        }

        // Neither the head's chain nor any queued push continues from the last applied commit: the missing
        // pushes get the window, counted from the head's arrival, and then the chain goes on without them.
        var deadline = head.AcceptedAt + window;
        return now < deadline ? new NextEvent(-1, deadline, false) : new NextEvent(root, null, true);
    }

    /// <summary>Follows queued pushes back along the chain from <paramref name="index"/>; its own index when none precedes it.</summary>
    private static int EarliestQueuedPredecessor(ImmutableList<PendingEvent> pending, int index)
    {
        for (var steps = 0; steps < pending.Count && pending[index].Event.ContinuesChain; steps++)
        {
            var before = pending[index].Event.Before;
            var predecessor = pending.FindIndex(p => p.Event.MovesChain && p.Event.Revision == before);
            if (predecessor < 0 || predecessor == index)
            {
                break;
            }

            index = predecessor;
        }

        return index;
    }

    private static bool IsOutOfChain(HookEvent e, string lastAfter) =>
        e.ContinuesChain && lastAfter.Length > 0 && e.Before != lastAfter;

    /// <summary>The ref's last applied commit after an event: as its <see cref="EventMeaning.Chain"/> says, except that re-runs leave it.</summary>
    public static string AdvanceChain(string lastAfter, HookEvent e) => e.Meaning.Chain switch
    {
        _ when e.IsRerun => lastAfter,
        ChainEffect.Moves => e.Revision,
        ChainEffect.Ends or ChainEffect.Clears => "",
        _ => lastAfter,
    };
}

using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// What a pull request's approvals and re-test requests do to its ref. The gateway lets only trusted
/// commands through (a trusted commenter's <c>/ok-to-test</c> or <c>/retest</c>, or the approval label
/// being added); here they act on the queue. Commands are never queued or applied themselves; their
/// delivery ids are remembered, so a redelivered comment changes nothing twice.
/// </summary>
public static class PullRequestCommands
{
    public const string WaitingDescription = "waiting for /ok-to-test";

    public static async Task RunAsync(RefEvents events, HookEvent command)
    {
        switch (command.Command)
        {
            case HookEvent.ApproveCommand:
                // Events are superseded as soon as a newer one of the pull request arrives, so what still waits
                // is the current head: an approval releases exactly that, and a later push waits again.
                await events.ReleaseWaitingAsync();
                break;
            case HookEvent.RetestCommand when Newest(events) is { NeedsApproval: false } newest:
                await events.AddCopyAsync(newest with
                {
                    Delivery = await DerivedDeliveryId.NextAsync(newest.Delivery, "retest", events.IsKnownAsync),
                    ReceivedAt = command.ReceivedAt,
                });
                break;
        }
    }

    /// <summary>The pull request's newest event: the last queued one, else the newest finished one.</summary>
    private static HookEvent? Newest(RefEvents events) =>
        events.Pending.LastOrDefault(p => p.Event.PullRequest > 0)?.Event
        ?? events.History.Entries.FirstOrDefault(h => h.Event.PullRequest > 0)?.Event;
}

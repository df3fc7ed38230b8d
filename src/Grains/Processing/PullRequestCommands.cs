using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// What a pull request's approvals and re-test requests do to its ref. The gateway lets only trusted
/// comments through (a trusted commenter's <c>/ok-to-test</c> or <c>/retest</c>); the approval label being
/// added or removed comes with the user who did it, whose write access GitHub is asked about before the
/// label approves anything. Here they act on the queue. Commands are never queued or applied themselves;
/// their delivery ids are remembered, so a redelivered comment changes nothing twice.
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
            case HookEvent.LabelCommand:
                // The label approves this head and, while it stays, the later ones: each runs only once GitHub
                // says its author has write access, so who put it there is remembered for the heads to come.
                await events.SetLabelledByAsync(command.Sender);
                await events.ReleaseWaitingAsync(ifWriter: command.Sender);
                break;
            case HookEvent.UnlabelCommand:
                await events.SetLabelledByAsync("");
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

    /// <summary>
    /// A new event of the pull request: when it carries the approval label and the ref knows who added it, an
    /// event that would wait for approval, or whose sender GitHub is asked about, may also run on the word of the
    /// label's author, once GitHub says they have write access.
    /// </summary>
    public static HookEvent WithLabelApproval(HookEvent e, string labelledBy) =>
        e.ApprovalLabel && labelledBy.Length > 0 && (e.NeedsApproval || e.AsksForWriter)
            ? e with { NeedsApproval = false, RunsIfWriter = (e.RunsIfWriter ?? []).Add(labelledBy) }
            : e;

    /// <summary>The pull request's newest event: the last queued one, else the newest finished one.</summary>
    private static HookEvent? Newest(RefEvents events) =>
        events.Pending.LastOrDefault(p => p.Event.PullRequest > 0)?.Event
        ?? events.History.Entries.FirstOrDefault(h => h.Event.PullRequest > 0)?.Event;
}

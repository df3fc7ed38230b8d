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
            case HookEvent.RetestCommand when events.PipelineMode && Newest(events) is { NeedsApproval: false } newest:
                // The pipelines whose last result at the head was not success; none: nothing to run again.
                if (events.Pending.Exists(p => p.Event.Delivery == newest.Delivery))
                {
                    break;
                }

                var unsuccessful = Unsuccessful(events.History, newest);
                if (unsuccessful.Count > 0)
                {
                    await AddRunAsync(events, command, newest, "retest", [.. unsuccessful], null, "queued (/retest)");
                }

                break;
            case HookEvent.RetestCommand when Newest(events) is { NeedsApproval: false } newest:
                await events.AddCopyAsync(newest with
                {
                    Delivery = await DerivedDeliveryId.NextAsync(newest.Delivery, "retest", events.IsKnownAsync),
                    ReceivedAt = command.ReceivedAt,
                });
                break;
            case HookEvent.TestCommand when Newest(events) is { NeedsApproval: false } newest:
                // /test NAME runs that pipeline whatever its rules; /test the ones that match (all of it in single-file mode).
                await AddRunAsync(events, command, newest, "test", command.Pipelines, null,
                    command.Pipelines is [var name] ? $"queued (/test {name})" : "queued (/test)");
                break;
            case HookEvent.CommentCommand when events.PipelineMode && Newest(events) is { NeedsApproval: false } newest:
                await AddRunAsync(events, command, newest, "comment", null, command.CommentLine ?? "", "queued (comment)");
                break;
            case HookEvent.CancelCommand:
                await events.CancelRunsAsync(
                    command.Pipelines is [var stop] ? $"cancelled by /cancel {stop} ({command.Delivery})" : $"cancelled by /cancel ({command.Delivery})",
                    command.Pipelines is [var only] ? only : null);
                break;
        }
    }

    /// <summary>
    /// Queues the pull request's newest event again, outside the push chain, limited to <paramref name="pipelines"/>
    /// or to the pipelines a comment's <paramref name="commentLine"/> matches.
    /// </summary>
    private static async Task AddRunAsync(
        RefEvents events, HookEvent command, HookEvent newest, string kind, System.Collections.Immutable.ImmutableList<string>? pipelines, string? commentLine, string description)
    {
        // A copy of a copy names the original: the ids stay {delivery}-{kind}-{n}, and every copy re-runs the event GitHub sent.
        var original = newest.IsRerun ? newest.RerunOf : newest.Delivery;
        await events.AddCopyAsync(newest with
        {
            Delivery = await DerivedDeliveryId.NextAsync(original, kind, events.IsKnownAsync),
            ReceivedAt = command.ReceivedAt,
            RerunOf = original,
            Pipelines = pipelines,
            CommentLine = commentLine,
        }, description);
    }

    /// <summary>
    /// The pipelines whose newest result at <paramref name="head"/>'s revision is not success: failed, skipped for an
    /// error, cancelled or timed out (a run still going has no result yet and is left alone).
    /// </summary>
    public static IReadOnlyList<string> Unsuccessful(RefHistory history, HookEvent head)
    {
        var decided = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var entry in history.Entries.Where(h => h.Event.Revision == head.Revision && h.Pipelines is not null))
        {
            foreach (var pipeline in entry.Pipelines!.Where(p => p.Status != PipelineStatus.Skipped && !decided.ContainsKey(p.Name)))
            {
                var part = entry.Run is { } run ? run.Part(pipeline.Name) : null;
                if (pipeline.Status == PipelineStatus.Failed || part is { FinishedAt: not null, Result: not RunResult.Success })
                {
                    decided[pipeline.Name] = false;
                }
                else if (part is null || part.FinishedAt is not null)
                {
                    decided[pipeline.Name] = true;
                }
            }
        }

        return [.. decided.Where(d => !d.Value).Select(d => d.Key).Order(StringComparer.Ordinal)];
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

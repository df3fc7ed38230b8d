using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Gateway.Ui;

/// <summary>
/// <c>/ui/repos/{owner}/{repo}/refs/{ref}</c>: one ref's queue and history, every attempt with its error,
/// the applied objects, and the operator's buttons. Buttons are POST forms carrying the antiforgery token.
/// </summary>
public static class RefPage
{
    public static Html Render(PageContext page, RefSnapshot snapshot, string? notice, bool done)
    {
        var address = page.Paths.Ref(snapshot.Repository, snapshot.Ref);
        var state = snapshot.Paused ? "paused"
            : snapshot.RepositoryPaused ? "paused with its repository"
            : snapshot.InFlight is not null ? "processing"
            : snapshot.Queue.IsEmpty ? "idle"
            : snapshot.Queue[0].Attempts.IsEmpty ? "pending" : "retrying its head";
        var message = notice is null ? Html.Empty
            : Html.Of($"<p class=\"notice {(done ? "notice-done" : "notice-error")}\" role=\"status\">{Notice(notice, done)}</p>");
        var pauseOrResume = snapshot.Paused
            ? Button(page, address, "resume", "Resume processing", destructive: false)
            : Button(page, address, "pause", "Pause processing", destructive: false);
        return Layout.Page(page, $"{snapshot.Repository} {Format.Ref(snapshot.Ref)}", Html.Of($"""
            <p class="crumbs"><a href="{page.Paths.Repository(snapshot.Repository)}">{snapshot.Repository}</a></p>
            <h1>{Format.Ref(snapshot.Ref)}</h1>
            {message}
            <dl class="facts">
            <dt>Ref</dt><dd><code>{snapshot.Ref}</code></dd>
            <dt>State</dt><dd>{state}</dd>
            <dt>Queue</dt><dd>{snapshot.Queue.Count} pending</dd>
            <dt>Last processed commit</dt><dd>{Format.Revision(page.Links, snapshot.Repository, snapshot.LastAfter)}</dd>
            </dl>
            <section class="actions" aria-label="Actions">
            {Button(page, address, "retry", "Retry head now", destructive: false)}
            {Button(page, address, "skip", "Skip head…", destructive: true)}
            {pauseOrResume}
            </section>
            <h2 id="queue">Queue</h2>
            {Queue(page, snapshot)}
            <h2 id="history">History</h2>
            {History(page, snapshot)}
            """));
    }

    /// <summary>The question asked before a head is skipped: skipping cannot be undone.</summary>
    public static Html ConfirmSkip(PageContext page, RefSnapshot snapshot)
    {
        var address = page.Paths.Ref(snapshot.Repository, snapshot.Ref);
        var head = snapshot.Queue.IsEmpty ? null : snapshot.Queue[0].Event;
        var what = head is null ? Html.Of($"The queue is empty; there is nothing to skip.")
            : Html.Of($"The head of the queue, delivery <a href=\"{page.Paths.Delivery(head.Delivery)}\">{head.Delivery}</a> ({Format.Event(head.EventType, head.Action)} at {Format.Revision(page.Links, head.Repository, head.Revision)}), will be recorded as skipped and never applied. This cannot be undone.");
        return Layout.Page(page, "Skip the head of the queue?", Html.Of($"""
            <p class="crumbs"><a href="{page.Paths.Repository(snapshot.Repository)}">{snapshot.Repository}</a></p>
            <h1>Skip the head of {Format.Ref(snapshot.Ref)}?</h1>
            <p>{what}</p>
            <form method="post" action="{address}/skip" class="confirm">
            {page.FormToken()}
            <input type="hidden" name="confirmed" value="yes">
            <button type="submit" class="danger">Yes, skip it</button>
            <a href="{address}">No, go back</a>
            </form>
            """));
    }

    private static Html Button(PageContext page, string address, string action, string label, bool destructive) => Html.Of($"""
        <form method="post" action="{address}/{action}">{page.FormToken()}<button type="submit"{(destructive ? Html.Of($" class=\"danger\"") : Html.Empty)}>{label}</button></form>
        """);

    private static string Notice(string action, bool done) => (action, done) switch
    {
        ("retry", true) => "Retry requested: the head of the queue will be attempted now.",
        ("skip", true) => "The head of the queue was skipped.",
        ("pause", true) => "Paused: events are queued but not processed.",
        ("resume", true) => "Resumed.",
        _ => $"Nothing to {action}: the queue is empty, or its head is being processed right now.",
    };

    private static Html Queue(PageContext page, RefSnapshot snapshot) => snapshot.Queue.IsEmpty
        ? Html.Of($"<p class=\"muted\">Nothing is waiting.</p>")
        : Html.Of($"""
            <div class="table-wrap"><table class="queue">
            <caption>Processed in this order, one at a time.</caption>
            <thead><tr><th scope="col">#</th><th scope="col">Delivery</th><th scope="col">Event</th><th scope="col">Revision</th><th scope="col">State</th><th scope="col">Accepted</th><th scope="col">Attempts</th></tr></thead>
            <tbody>{snapshot.Queue.Select((p, i) => QueueRow(page, snapshot, p, i + 1))}</tbody>
            </table></div>
            """);

    private static Html QueueRow(PageContext page, RefSnapshot snapshot, PendingEvent p, int position)
    {
        var next = p.NotBefore is { } at && at > page.Now ? Html.Of($"<div class=\"muted\">next attempt in {Format.Duration(at - page.Now)}</div>") : Html.Empty;
        var error = p.Attempts.LastOrDefault()?.Error is { } last ? Html.Of($"<div class=\"error\">{last}</div>") : Html.Empty;
        return Html.Of($"""
            <tr>
            <td data-label="#">{position}</td>
            <td data-label="Delivery"><a class="delivery" href="{page.Paths.Delivery(p.Event.Delivery)}" title="{p.Event.Delivery}">{Format.Abbreviated(p.Event.Delivery)}</a></td>
            <td data-label="Event">{Format.Event(p.Event.EventType, p.Event.Action)}</td>
            <td data-label="Revision">{Format.Revision(page.Links, p.Event.Repository, p.Event.Revision)}</td>
            <td data-label="State">{Format.State(EventStates.OfPending(p, snapshot.InFlight))}{next}{error}</td>
            <td data-label="Accepted">{Format.Time(p.AcceptedAt, page.Now)}</td>
            <td data-label="Attempts">{Attempts(page, p.Attempts)}</td>
            </tr>
            """);
    }

    private static Html History(PageContext page, RefSnapshot snapshot) => snapshot.History.IsEmpty
        ? Html.Of($"<p class=\"muted\">Nothing has finished yet.</p>")
        : Html.Of($"""
            <div class="table-wrap"><table class="history">
            <caption>Newest first.</caption>
            <thead><tr><th scope="col">Delivery</th><th scope="col">Event</th><th scope="col">Revision</th><th scope="col">Outcome</th><th scope="col">Finished</th><th scope="col">Duration</th><th scope="col">Attempts</th><th scope="col">Applied</th></tr></thead>
            <tbody>{snapshot.History.Select(h => HistoryRow(page, h))}</tbody>
            </table></div>
            """);

    private static Html HistoryRow(PageContext page, HistoryEntry h)
    {
        var error = h.Error is { Length: > 0 } text ? Html.Of($"<div class=\"error\">{text}</div>") : Html.Empty;
        var outOfChain = h.OutOfChain ? Html.Of($"<div class=\"muted\">out of chain</div>") : Html.Empty;
        var pipelines = h.Pipelines switch
        {
            null => Html.Empty,
            { Count: 0 } => Html.Of($"<div class=\"muted\">no pipelines</div>"),
            var each => Html.Of($"<ul class=\"pipelines\">{each.Select(p => Html.Of($"<li><code>{p.Name}</code>: {DeliveryPage.PipelineResult(h, p)}</li>"))}</ul>"),
        };
        return Html.Of($"""
            <tr>
            <td data-label="Delivery"><a class="delivery" href="{page.Paths.Delivery(h.Event.Delivery)}" title="{h.Event.Delivery}">{Format.Abbreviated(h.Event.Delivery)}</a></td>
            <td data-label="Event">{Format.Event(h.Event.EventType, h.Event.Action)}</td>
            <td data-label="Revision">{Format.Revision(page.Links, h.Event.Repository, h.Event.Revision)}</td>
            <td data-label="Outcome">{Format.State(EventStates.Of(h))}{outOfChain}{error}{pipelines}</td>
            <td data-label="Finished">{Format.Time(h.FinishedAt, page.Now)}</td>
            <td data-label="Duration">{Format.Duration(h.EndToEnd)}</td>
            <td data-label="Attempts">{Attempts(page, h.Attempts)}</td>
            <td data-label="Applied">{Objects(page, h.Event, h.Objects)}</td>
            </tr>
            """);
    }

    /// <summary>Attempts as a count that opens into each attempt with its time, duration and error.</summary>
    public static Html Attempts(PageContext page, IReadOnlyList<AttemptRecord> attempts) => attempts.Count == 0
        ? Html.Of($"<span class=\"muted\">none yet</span>")
        : Html.Of($"""
            <details><summary>{attempts.Count} {(attempts.Count == 1 ? "attempt" : "attempts")}</summary><ol class="attempts">{attempts.Select(a => Html.Of($"<li>{Format.Time(a.StartedAt, page.Now)}, {Format.Duration(a.Duration)}{(a.Error is null ? Html.Of($": ok") : Html.Of($": <span class=\"error\">{a.Error}</span>{(a.Transient ? " (transient)" : "")}"))}</li>"))}</ol></details>
            """);

    public static Html Objects(PageContext page, HookEvent e, IReadOnlyList<AppliedObject> objects) => objects.Count == 0
        ? Html.Of($"<span class=\"muted\">—</span>")
        : Html.Of($"<ul class=\"objects\">{objects.Select(o => Html.Of($"<li>{Format.Applied(o, page.Target(e, o))} <span class=\"muted\">({o.Action}, {o.Namespace})</span></li>"))}</ul>");
}

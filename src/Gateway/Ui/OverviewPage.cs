using CiTrigger.Gateway.Admin;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Gateway.Ui;

/// <summary>
/// <c>/ui</c>: recent events across all repositories, newest first, with filters and pages; below them every
/// Repository resource the service read, a refused one marked and announced at the top.
/// </summary>
public static class OverviewPage
{
    /// <summary>What the filter form asked for, as typed (shown back in the form).</summary>
    public sealed record Filters(string? Repository, string? State, string? Text, string? Before)
    {
        public string Query(string? before) => string.Join('&', new[]
        {
            ("repo", Repository), ("state", State), ("q", Text), ("before", before),
        }.Where(p => !string.IsNullOrEmpty(p.Item2)).Select(p => p.Item1 + "=" + Uri.EscapeDataString(p.Item2!)));
    }

    public static Html Render(PageContext page, Filters filters, EventPage events, IEnumerable<string> repositories, RepositoryList resources, string? problem)
    {
        var refresh = filters.Before is null ? page.Paths.Events + "?" + filters.Query(null) : null;
        var older = events.Next is null ? Html.Empty
            : Html.Of($"<a rel=\"next\" href=\"{page.Paths.Overview}?{filters.Query(events.Next)}\">Older events</a>");
        var newest = filters.Before is null ? Html.Empty
            : Html.Of($"<a href=\"{page.Paths.Overview}?{filters.Query(null)}\">Newest events</a>");
        var alert = problem is null ? Html.Empty : Html.Of($"<p class=\"notice notice-error\" role=\"alert\">{problem}</p>");
        return Layout.Page(page, "Recent events", Html.Of($"""
            <h1>Recent events</h1>
            {alert}
            {NotReady(page, resources)}
            <form class="filters" method="get" action="{page.Paths.Overview}" role="search" aria-label="Filter events">
            <div class="field"><label for="repo">Repository</label>
            <input id="repo" name="repo" list="repositories" value="{filters.Repository}" placeholder="owner/name" autocomplete="off" spellcheck="false">
            <datalist id="repositories">{repositories.Select(r => Html.Of($"<option value=\"{r}\">"))}</datalist></div>
            <div class="field"><label for="state">State</label>
            <select id="state" name="state"><option value="">any state</option>{EventStates.All.Select(s => StateOption(s, filters.State))}</select></div>
            <div class="field"><label for="q">Text</label>
            <input id="q" name="q" type="search" value="{filters.Text}" placeholder="ref, revision, delivery, error" spellcheck="false"></div>
            <div class="buttons"><button type="submit">Filter</button> <a href="{page.Paths.Overview}">Clear</a></div>
            </form>
            <div class="table-wrap">
            <table class="events" data-refresh="{refresh}">
            <caption>Newest first{(refresh is null ? "" : "; refreshes itself every few seconds")}. <span class="refreshed" data-refreshed></span></caption>
            <thead><tr><th scope="col">Repository</th><th scope="col">Ref</th><th scope="col">Event</th><th scope="col">Revision</th><th scope="col">State</th><th scope="col">Age</th><th scope="col">Duration</th><th scope="col">Applied</th><th scope="col">Delivery</th></tr></thead>
            <tbody>{Rows(page, events)}</tbody>
            </table>
            </div>
            <nav class="pages" aria-label="Pages">{newest} {older}</nav>
            <h2 id="repositories">Repositories</h2>
            {Repositories(page, resources)}
            """));
    }

    /// <summary>A line at the top when a Repository resource is not ready: a refused spec should not wait to be scrolled to.</summary>
    private static Html NotReady(PageContext page, RepositoryList resources) =>
        resources.Repositories.Count(r => !r.Ready) switch
        {
            0 => Html.Empty,
            1 => Html.Of($"<p class=\"notice notice-error\">A Repository resource is not ready: <a href=\"{page.Paths.Repositories}\">{resources.Repositories.First(r => !r.Ready).Resource}</a>.</p>"),
            var n => Html.Of($"<p class=\"notice notice-error\">{n} Repository resources are not ready: see <a href=\"{page.Paths.Repositories}\">Repositories</a>.</p>"),
        };

    private static Html Repositories(PageContext page, RepositoryList resources) => resources.Repositories switch
    {
        [] when !resources.Synced => Html.Of($"<p class=\"muted\">The Repository resources have not been listed yet.</p>"),
        [] => Html.Of($"<p class=\"muted\">No Repository resources: every repository uses the global options.</p>"),
        var all => Html.Of($"""
            <div class="table-wrap"><table class="repositories">
            <caption>Every Repository resource the service read{(resources.Synced ? "" : " (not listed yet)")}, by name. A repository without a ready one uses the global options.</caption>
            <thead><tr><th scope="col">Resource</th><th scope="col">Repository</th><th scope="col">Ready</th><th scope="col">Runs</th></tr></thead>
            <tbody>{all.Select(r => RepositoryRow(page, r))}</tbody>
            </table></div>
            """),
    };

    private static Html RepositoryRow(PageContext page, RepositoryEntry r)
    {
        var repository = r.Repository.Length == 0
            ? Html.Of($"<span class=\"muted\">none readable</span>")
            : Html.Of($"<a href=\"{page.Paths.Repository(r.Repository)}\">{r.Repository}</a>");
        var runs = RepositoryPage.RunCount(r) is { } count ? Html.Of($"{count}")
            : r.Ready ? Html.Of($"<span class=\"muted\">no limit</span>")
            : Html.Of($"<span class=\"muted\" title=\"not in use\">—</span>");
        return Html.Of($"""
            <tr{(r.Ready ? Html.Empty : Html.Of($" class=\"not-ready\""))}>
            <td data-label="Resource"><code>{r.Resource}</code></td>
            <td data-label="Repository">{repository}</td>
            <td data-label="Ready">{RepositoryPage.Readiness(r)}</td>
            <td data-label="Runs">{runs}</td>
            </tr>
            """);
    }

    /// <summary>The table's rows alone: what the page fetches to refresh itself.</summary>
    public static Html Rows(PageContext page, EventPage events) => events.Events.Count == 0
        ? Html.Of($"<tr><td colspan=\"9\" class=\"empty\">No events match.</td></tr>")
        : Html.Join(events.Events.Select(e => Row(page, e)));

    private static Html Row(PageContext page, EventSummary e)
    {
        var applied = e.FirstObject is { } first
            ? Format.Applied(first, page.Links.Target(e.Delivery, e.Key, e.Repository, e.Ref, e.Revision, first))
            : Html.Of($"<span class=\"muted\">—</span>");
        var error = e.Error is { Length: > 0 } text
            ? Html.Of($"<div class=\"error\">{(text.Length > 160 ? text[..159] + "…" : text)}</div>")
            : Html.Empty;
        var retry = e.NextAttemptAt is { } next && e.State == EventStates.Retrying
            ? Html.Of($"<div class=\"muted\">attempt {e.Attempts + 1} {NextAttempt(next, page.Now)}</div>")
            : Html.Empty;
        var duration = (e.FinishedAt ?? page.Now) - e.AcceptedAt;
        return Html.Of($"""
            <tr class="row-{e.State}">
            <td data-label="Repository"><a href="{page.Paths.RepositoryFilter(e.Repository)}">{e.Repository}</a></td>
            <td data-label="Ref"><a class="ref" href="{page.Paths.Ref(e.Repository, e.Ref)}" title="{e.Ref}">{Format.Ref(e.Ref)}</a></td>
            <td data-label="Event">{Format.Event(e.EventType, e.Action)}</td>
            <td data-label="Revision">{Format.Revision(page.Links, e.Repository, e.Revision)}</td>
            <td data-label="State">{Format.State(e.State)}{retry}{error}</td>
            <td data-label="Age">{Format.Time(e.AcceptedAt, page.Now)}</td>
            <td data-label="Duration">{Format.Duration(duration)}{(e.FinishedAt is null ? " so far" : "")}</td>
            <td data-label="Applied">{applied}</td>
            <td data-label="Delivery"><a class="delivery" href="{page.Paths.Delivery(e.Delivery)}" title="{e.Delivery}">{Format.Abbreviated(e.Delivery)}</a></td>
            </tr>
            """);
    }

    private static Html NextAttempt(DateTimeOffset next, DateTimeOffset now) =>
        next <= now ? Html.Of($"due now") : Html.Of($"in {Format.Duration(next - now)}");

    private static Html StateOption(string state, string? selected) => state == selected
        ? Html.Of($"<option value=\"{state}\" selected>{Format.Label(state)}</option>")
        : Html.Of($"<option value=\"{state}\">{Format.Label(state)}</option>");
}

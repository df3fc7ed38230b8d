using CiTrigger.Gateway.Admin;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Gateway.Ui;

/// <summary>
/// <c>/ui/repos/{owner}/{repo}</c>: one repository: its Repository resource as the service read it, each setting
/// with its value or the global option it falls back to, the runs holding its slots and the deliveries waiting for
/// one under a <c>concurrencyLimit</c>, its pause, and its known refs.
/// </summary>
public static class RepositoryPage
{
    /// <summary>
    /// The global options the gateway can read: the others live in the processing side's options, which this
    /// assembly cannot see, so the page names their keys only.
    /// </summary>
    public sealed record Globals(IReadOnlyList<string> TrustedAssociations, bool RequireRepository);

    /// <summary>
    /// What the page shows: the repository (as keys name it), its pause, every Repository resource naming it (the usable
    /// one first), and its refs (<paramref name="MoreRefs"/>: more than these are known).
    /// </summary>
    public sealed record View(string Repository, bool Paused, IReadOnlyList<RepositoryEntry> Resources, IReadOnlyList<RefSummary> Refs, bool MoreRefs);

    public static Html Render(PageContext page, View view, Globals globals)
    {
        var usable = view.Resources.FirstOrDefault(r => r.Ready);
        return Layout.Page(page, view.Repository, Html.Of($"""
            <p class="crumbs"><a href="{page.Paths.RepositoryFilter(view.Repository)}">Recent events of {view.Repository}</a></p>
            <h1>{view.Repository}</h1>
            {Resource(page, view, usable, globals)}
            <h2 id="settings">Settings</h2>
            {Settings(usable?.Settings, globals)}
            <h2 id="runs">Runs</h2>
            {Runs(page, usable)}
            <h2 id="refs">Refs</h2>
            {Refs(page, view)}
            """));
    }

    /// <summary>"1 of 2 running, 3 waiting" under a limit; null without one.</summary>
    public static string? RunCount(RepositoryEntry entry) =>
        entry.Settings?.ConcurrencyLimit is { } limit
            ? $"{entry.Runs?.Running.Count ?? 0} of {limit} running, {entry.Runs?.Waiting.Count ?? 0} waiting"
            : null;

    /// <summary>Ready or not as a badge, with the reason and the service's message (which names the problem of a refused spec).</summary>
    public static Html Readiness(RepositoryEntry entry) => Html.Of($"""
        {Format.State(entry.Ready ? "ready" : "not-ready")} <span class="muted">{entry.Reason}</span><div class="{(entry.Ready ? "muted" : "error")}">{entry.Message}</div>
        """);

    private static Html Resource(PageContext page, View view, RepositoryEntry? usable, Globals globals)
    {
        var refused = view.Resources.Where(r => r != usable).ToList();
        var paused = view.Paused
            ? Html.Of($"<strong>yes</strong>: every ref of it queues its events and processes none until it is resumed (<code>POST /admin/repos/{view.Repository}/resume</code>)")
            : Html.Of($"no");
        var resource = usable is null
            ? Html.Of($"<dt>Repository resource</dt><dd>none usable: every setting is the global option</dd>")
            : Html.Of($"""
                <dt>Repository resource</dt><dd><code>{usable.Resource}</code></dd>
                <dt>Ready</dt><dd>{Readiness(usable)}</dd>
                <dt>Runs</dt><dd>{RunCount(usable) ?? "no concurrencyLimit"}</dd>
                """);
        var required = usable is null && globals.RequireRepository
            ? Html.Of($"<p class=\"notice notice-error\"><code>Handler:RequireRepository</code> is true: its events are acknowledged and ignored until a usable Repository resource names it.</p>")
            : Html.Empty;
        var others = refused.Count == 0 ? Html.Empty : Html.Of($"""
            <div class="notice notice-error">
            <p>{(refused.Count == 1 ? "A Repository resource naming it is not ready" : $"{refused.Count} Repository resources naming it are not ready")}; the service does not use {(refused.Count == 1 ? "it" : "them")}:</p>
            <ul class="refused">{refused.Select(r => Html.Of($"<li><code>{r.Resource}</code>: {r.Reason}: {r.Message}</li>"))}</ul>
            </div>
            """);
        return Html.Of($"""
            <dl class="facts">
            <dt>Paused</dt><dd>{paused}</dd>
            {resource}
            </dl>
            {required}
            {others}
            """);
    }

    private static Html Settings(RepositorySettings? s, Globals globals) => Html.Of($"""
        <div class="table-wrap"><table class="settings">
        <caption>{(s is null ? "No usable Repository resource: each setting is the global option." : "From its Repository resource; a setting it leaves out is the global option.")}</caption>
        <thead><tr><th scope="col">Setting</th><th scope="col">Value</th><th scope="col">Meaning</th></tr></thead>
        <tbody>
        {Setting("namespace", s?.Namespace is { } ns ? Html.Of($"<code>{ns}</code>") : Global("Handler:Namespace"), "where its runs go; the only namespace its manifests may name")}
        {Setting("pipelineDirectory", s?.PipelineDirectory is { } directory ? Html.Of($"<code>{directory}</code>") : Global("Handler:PipelineDirectory"), "where its pipelines are read (pipeline mode)")}
        {Setting("trustedAssociations", s?.TrustedAssociations is { } trusted ? Html.Of($"{(trusted.IsEmpty ? "none: nobody is trusted" : string.Join(", ", trusted))}") : Global("Handler:TrustedAssociations", string.Join(", ", globals.TrustedAssociations)), "the author_association values whose pull requests and comments are trusted")}
        {Setting("cancelSuperseded", s?.CancelSuperseded is { } cancel ? Html.Of($"{(cancel ? "true" : "false")}") : Global("Handler:CancelSuperseded"), "whether a newer event of a ref stops the runs of its older ones")}
        {Setting("concurrencyLimit", s?.ConcurrencyLimit is { } limit ? Html.Of($"{limit}") : Html.Of($"<span class=\"muted\">none: no limit</span>"), "at most this many of its runs at once, across its refs; the others wait in order")}
        {Setting("params", Params(s?.Params), "extra {{ name }} values of its manifests")}
        {Setting("keepRuns", s?.KeepRuns is { } keep ? Html.Of($"{keep}") : Html.Of($"<span class=\"muted\">none: no finished run is deleted</span>"), "finished run objects kept per ref and pipeline; older finished ones are deleted")}
        </tbody>
        </table></div>
        """);

    private static Html Setting(string name, Html value, string meaning) => Html.Of($"""
        <tr><td data-label="Setting"><code>{name}</code></td><td data-label="Value">{value}</td><td data-label="Meaning" class="muted">{meaning}</td></tr>
        """);

    /// <summary>A global option: its key, and its value when the gateway can read it.</summary>
    private static Html Global(string key, string? value = null) => value is null
        ? Html.Of($"<span class=\"muted\">global (<code>{key}</code>)</span>")
        : Html.Of($"<span class=\"muted\">global (<code>{key}</code>):</span> {value}");

    private static Html Params(IReadOnlyDictionary<string, string>? values) => values switch
    {
        null or { Count: 0 } => Html.Of($"<span class=\"muted\">none</span>"),
        _ => Html.Of($"<ul class=\"params\">{values.Select(p => Html.Of($"<li><code>{p.Key}</code> = <code>{p.Value}</code></li>"))}</ul>"),
    };

    private static Html Runs(PageContext page, RepositoryEntry? usable)
    {
        if (usable?.Settings?.ConcurrencyLimit is null)
        {
            return Html.Of($"<p class=\"muted\">No <code>concurrencyLimit</code>: each run starts as soon as its event is processed; none waits for a slot.</p>");
        }

        var running = usable.Runs?.Running ?? [];
        var waiting = usable.Runs?.Waiting ?? [];
        return Html.Of($"""
            <p class="run-count">{RunCount(usable)}</p>
            <div class="table-wrap"><table class="running">
            <caption>Holding a run slot.</caption>
            <thead><tr><th scope="col">Delivery</th><th scope="col">Ref</th><th scope="col">Since</th></tr></thead>
            <tbody>{(running.Count == 0 ? Html.Of($"<tr><td colspan=\"3\" class=\"empty\">No run holds a slot.</td></tr>") : Html.Join(running.Select(h => Slot(page, h, null))))}</tbody>
            </table></div>
            <div class="table-wrap"><table class="waiting">
            <caption>Waiting for a slot, next first.</caption>
            <thead><tr><th scope="col">#</th><th scope="col">Delivery</th><th scope="col">Ref</th><th scope="col">Waiting since</th></tr></thead>
            <tbody>{(waiting.Count == 0 ? Html.Of($"<tr><td colspan=\"4\" class=\"empty\">Nothing is waiting.</td></tr>") : Html.Join(waiting.Select((h, i) => Slot(page, h, i + 1))))}</tbody>
            </table></div>
            """);
    }

    private static Html Slot(PageContext page, RunSlotHolder holder, int? position)
    {
        var gitRef = RefKey.TryParse(holder.Key, out var repository, out var name)
            ? Html.Of($"<a class=\"ref\" href=\"{page.Paths.Ref(repository, name)}\" title=\"{name}\">{Format.Ref(name)}</a>")
            : Html.Of($"<code>{holder.Key}</code>");
        return Html.Of($"""
            <tr>
            {(position is { } n ? Html.Of($"<td data-label=\"#\">{n}</td>") : Html.Empty)}
            <td data-label="Delivery"><a class="delivery" href="{page.Paths.Delivery(holder.Delivery)}" title="{holder.Delivery}">{Format.Abbreviated(holder.Delivery)}</a></td>
            <td data-label="Ref">{gitRef}</td>
            <td data-label="Since">{Format.Time(holder.Since, page.Now)}</td>
            </tr>
            """);
    }

    private static Html Refs(PageContext page, View view) => view.Refs.Count == 0
        ? Html.Of($"<p class=\"muted\">No events are known for any of its refs.</p>")
        : Html.Of($"""
            <div class="table-wrap"><table class="refs">
            <caption>Every ref the service has events of, by name{(view.MoreRefs ? $"; the first {view.Refs.Count} (GET /admin/refs?repo= pages the rest)" : "")}.</caption>
            <thead><tr><th scope="col">Ref</th><th scope="col">State</th><th scope="col">Queue</th><th scope="col">Last delivery</th><th scope="col">Updated</th></tr></thead>
            <tbody>{view.Refs.Select(r => RefRow(page, r))}</tbody>
            </table></div>
            """);

    private static Html RefRow(PageContext page, RefSummary r)
    {
        var error = r.LastError is { Length: > 0 } text
            ? Html.Of($"<div class=\"error\">{(text.Length > 160 ? text[..159] + "…" : text)}</div>")
            : Html.Empty;
        var last = r.LastDelivery is { } delivery
            ? Html.Of($"<a class=\"delivery\" href=\"{page.Paths.Delivery(delivery)}\" title=\"{delivery}\">{Format.Abbreviated(delivery)}</a>")
            : Html.Of($"<span class=\"muted\">—</span>");
        return Html.Of($"""
            <tr>
            <td data-label="Ref"><a class="ref" href="{page.Paths.Ref(r.Repository, r.Ref)}" title="{r.Ref}">{Format.Ref(r.Ref)}</a></td>
            <td data-label="State">{Format.State(r.State)}{error}</td>
            <td data-label="Queue">{r.QueueLength} pending</td>
            <td data-label="Last delivery">{last}</td>
            <td data-label="Updated">{Format.Time(r.UpdatedAt, page.Now)}</td>
            </tr>
            """);
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using CiTrigger.Gateway.Forges.GitHub;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Gateway.Ui;

/// <summary>
/// <c>/ui/deliveries/{id}</c>: one delivery: the headers that identify it, the event's fields, every
/// attempt, the applied objects, the commit status it produced and the manifest as it was applied.
/// </summary>
public static class DeliveryPage
{
    public static Html Render(PageContext page, DeliveryRecord record, string? manifest, RunLog? log = null)
    {
        var e = record.Event;
        var result = record.Result;
        var error = result?.Error is { Length: > 0 } text ? Html.Of($"<p class=\"notice notice-error\">{text}</p>") : Html.Empty;
        var finished = result is null ? Html.Empty
            : Html.Of($"<dt>Finished</dt><dd>{Format.Time(result.FinishedAt, page.Now)}, {Format.Duration(result.EndToEnd)} after it was accepted</dd>");
        return Layout.Page(page, "Delivery " + e.Delivery, Html.Of($"""
            <p class="crumbs"><a href="{page.Paths.Repository(e.Repository)}">{e.Repository}</a> / <a href="{page.Paths.Ref(e.Repository, e.Ref)}">{Format.Ref(e.Ref)}</a></p>
            <h1>Delivery <span class="delivery">{e.Delivery}</span></h1>
            <dl class="facts">
            <dt>State</dt><dd>{Format.State(record.Status)}</dd>
            <dt>Accepted</dt><dd>{Format.Time(record.AcceptedAt, page.Now)}</dd>
            {finished}
            </dl>
            {error}
            {Actions(page, record)}
            <h2>Headers</h2>
            {Headers(page, e)}
            <h2>Event</h2>
            <dl class="facts">
            <dt>Repository</dt><dd>{e.Repository}</dd>
            <dt>Ref</dt><dd><code>{e.Ref}</code></dd>
            <dt>Event</dt><dd>{Format.Event(e.EventType, e.Action)}</dd>
            <dt>Revision</dt><dd>{Format.Revision(page.Links, e.Repository, e.Revision)}</dd>
            <dt>Before</dt><dd>{Format.Revision(page.Links, e.Repository, e.Before)}</dd>
            <dt>Manifest read at</dt><dd><code>{e.ManifestRef}</code></dd>
            <dt>Default branch</dt><dd><code>{e.DefaultBranch}</code></dd>
            <dt>Ref deleted</dt><dd>{(e.RefDeleted ? "yes" : "no")}</dd>
            <dt>Repository URL</dt><dd><code>{e.RepoUrl}</code></dd>
            <dt>Repository SSH</dt><dd><code>{e.RepoSsh}</code></dd>
            <dt>Received</dt><dd>{Format.Time(e.ReceivedAt, page.Now)}</dd>
            {RerunOf(page, e)}
            </dl>
            <h2>Attempts</h2>
            {Attempts(page, record.Attempts)}
            {Pipelines(page, result)}
            <h2>Applied objects</h2>
            {(result is null ? Html.Of($"<p class=\"muted\">Not applied yet.</p>") : RefPage.Objects(page, e, result.Objects))}
            <h2>Run</h2>
            {Run(page, result)}
            {WhyItFailed(log)}
            <h2>Commit status</h2>
            {Status(page, record)}
            <h2>Manifest as applied</h2>
            {Manifest(manifest)}
            """));
    }

    /// <summary>A finished delivery can be run again, a finally failed or skipped one included: the way out of a dead letter.</summary>
    private static Html Actions(PageContext page, DeliveryRecord record) => record.Result is null ? Html.Empty : Html.Of($"""
        <section class="actions" aria-label="Actions">
        <form method="post" action="{page.Paths.Delivery(record.Event.Delivery)}/rerun">{page.FormToken()}<button type="submit">Re-run</button></form>
        </section>
        """);

    /// <summary>The webhook's headers; a re-run came from no webhook of its own, and its id is the service's.</summary>
    private static Html Headers(PageContext page, HookEvent e) => e.IsRerun
        ? Html.Of($"""
            <p class="muted" id="no-webhook">No webhook of its own: the service made this event to run <a href="{page.Paths.Delivery(e.RerunOf)}" class="delivery">{e.RerunOf}</a> again. Its id <code>{e.Delivery}</code> is the service's, not an <code>{GitHubHeaders.Delivery}</code> GitHub sent; the event's fields are the original's.</p>
            """)
        : Html.Of($"""
            <dl class="facts">
            <dt><code>{GitHubHeaders.Event}</code></dt><dd><code>{e.EventType}</code></dd>
            <dt><code>{GitHubHeaders.Delivery}</code></dt><dd><code>{e.Delivery}</code></dd>
            </dl>
            """);

    private static Html RerunOf(PageContext page, HookEvent e) => string.IsNullOrEmpty(e.RerunOf) ? Html.Empty
        : Html.Of($"<dt>Re-run of</dt><dd><a href=\"{page.Paths.Delivery(e.RerunOf)}\" class=\"delivery\">{e.RerunOf}</a></dd>");

    private static Html Attempts(PageContext page, IReadOnlyList<AttemptRecord> attempts) => attempts.Count == 0
        ? Html.Of($"<p class=\"muted\">Not attempted yet.</p>")
        : Html.Of($"""
            <div class="table-wrap"><table class="attempts">
            <thead><tr><th scope="col">#</th><th scope="col">Started</th><th scope="col">Duration</th><th scope="col">Result</th></tr></thead>
            <tbody>{attempts.Select((a, i) => Html.Of($"<tr><td data-label=\"#\">{i + 1}</td><td data-label=\"Started\">{Format.Time(a.StartedAt, page.Now)}</td><td data-label=\"Duration\">{Format.Duration(a.Duration)}</td><td data-label=\"Result\">{(a.Error is null ? Html.Of($"ok") : Html.Of($"<span class=\"error\">{a.Error}</span>{(a.Transient ? " (transient: tried again)" : "")}"))}</td></tr>"))}</tbody>
            </table></div>
            """);

    private static Html Status(PageContext page, DeliveryRecord record)
    {
        var e = record.Event;
        var settings = page.Links.Settings;
        if (!settings.ReportStatus)
        {
            return Html.Of($"<p class=\"muted\">Not reported: <code>GitHub:ReportStatus</code> is off.</p>");
        }

        if (page.Links.Commit(e.Repository, e.Revision) is not { } commit)
        {
            return Html.Of($"<p class=\"muted\">Not reported: the event has no revision to report on.</p>");
        }

        var target = page.Target(e, record.Result?.Objects.FirstOrDefault());
        var context = settings.StatusContext is { Length: > 0 } name ? Html.Of($" <code>{name}</code>") : Html.Empty;
        var link = target is null ? Html.Empty : Html.Of($", linking to <a href=\"{target.AbsoluteUri}\">{target.AbsoluteUri}</a>");
        return Html.Of($"<p>Reported as the commit status{context} of <a href=\"{commit.AbsoluteUri}\">{e.Revision}</a> on GitHub{link}: pending while queued, then the outcome, or the run's result when its run objects are followed.</p>");
    }

    /// <summary>
    /// Pipeline mode: each pipeline of the event, what became of it (applied, skipped by a rule, failed) and its run's
    /// result, as its check says it.
    /// </summary>
    private static Html Pipelines(PageContext page, HistoryEntry? result) => result?.Pipelines switch
    {
        null => Html.Empty,
        { Count: 0 } => Html.Of($"<h2>Pipelines</h2><p class=\"muted\" id=\"no-pipelines\">No pipelines: the repository has no pipeline files at this revision, so nothing was applied and no check was made.</p>"),
        var pipelines => Html.Of($"""
            <h2>Pipelines</h2>
            <div class="table-wrap"><table class="pipelines">
            <thead><tr><th scope="col">Pipeline</th><th scope="col">Check</th><th scope="col">Result</th><th scope="col">Why</th></tr></thead>
            <tbody>{pipelines.Select(p => Html.Of($"<tr><td data-label=\"Pipeline\"><code>{p.Name}</code></td><td data-label=\"Check\"><code>{PipelineCheck(page, p.Name)}</code></td><td data-label=\"Result\">{PipelineResult(result!, p)}</td><td data-label=\"Why\">{p.Reason ?? ""}</td></tr>"))}</tbody>
            </table></div>
            """),
    };

    private static string PipelineCheck(PageContext page, string pipeline) => PipelineChecks.Name(page.Links.Settings.StatusContext, pipeline);

    /// <summary>A pipeline's result in the words its check uses.</summary>
    internal static string PipelineResult(HistoryEntry result, PipelineRecord pipeline) => pipeline.Status switch
    {
        PipelineStatus.Skipped => "skipped",
        PipelineStatus.Failed => "failure",
        _ => result.Run?.Part(pipeline.Name) is { } part ? RunResults.Word(part.Result) : "success (applied, nothing to follow)",
    };

    /// <summary>The followed run: its result, when it started and ended, and each run object's result.</summary>
    private static Html Run(PageContext page, HistoryEntry? result)
    {
        if (result?.Run is not { } run)
        {
            return Html.Of($"<p class=\"muted\">{(result is null ? "Not applied yet." : "No run object followed: the event was complete once applied.")}</p>");
        }

        var finished = run.FinishedAt is { } at ? Html.Of($"<dt>Run finished</dt><dd>{Format.Time(at, page.Now)}, {Format.Duration(at - run.StartedAt)} after it started</dd>") : Html.Empty;
        return Html.Of($"""
            <dl class="facts">
            <dt>Result</dt><dd>{Format.State(EventStates.Of(result))}</dd>
            <dt>Run started</dt><dd>{Format.Time(run.StartedAt, page.Now)}</dd>
            {finished}
            </dl>
            <ul class="objects">{run.Objects.Select(o => Html.Of($"<li>{(o.Pipeline is { } p ? Html.Of($"<code>{p}</code> ") : Html.Empty)}{o.Kind} {o.Name} <span class=\"muted\">({o.Namespace})</span>: {RunResults.Word(o.Result)}{(o.Message is { Length: > 0 } m ? Html.Of($" <span class=\"muted\">{m}</span>") : Html.Empty)}{(o.StopPending ? Html.Of($" <span class=\"muted\">(stop sent, not yet confirmed by the cluster)</span>") : Html.Empty)}</li>"))}</ul>
            """);
    }

    /// <summary>The end of the failed container's log, as the run's check shows it (masked and bounded by the reader).</summary>
    private static Html WhyItFailed(RunLog? log) => log switch
    {
        null => Html.Empty,
        { Text: null } => Html.Of($"<h3>Why it failed</h3><p class=\"muted\">The log {(log.Pod.Length > 0 ? Html.Of($"of pod <code>{log.Pod}</code>, container <code>{log.Container}</code> ") : Html.Empty)}is not shown: {log.Withheld}.</p>"),
        _ => Html.Of($"""
            <h3>Why it failed</h3>
            <p>The last lines of the log of pod <code>{log.Pod}</code>, container <code>{log.Container}</code>:</p>
            <pre class="manifest" tabindex="0" aria-label="The failed container's log"><code>{log.Text}</code></pre>
            """),
    };

    private static Html Manifest(string? manifest) => manifest is null
        ? Html.Of($"<p class=\"muted\">None kept: not read yet, refused before it was read, or older than the delivery retention.</p>")
        : Html.Of($"<pre class=\"manifest\" tabindex=\"0\" aria-label=\"Manifest as applied\"><code>{Indented(manifest)}</code></pre>");

    /// <summary>
    /// The kept manifest (JSON documents behind <c>---</c>) with each document indented for reading; a
    /// document that does not parse (the last one of a manifest cut at its bound) is shown as kept.
    /// </summary>
    private static string Indented(string manifest) =>
        string.Concat(manifest.Split("---\n", StringSplitOptions.RemoveEmptyEntries).Select(document => "---\n" + Indent(document)));

    private static string Indent(string document)
    {
        try
        {
            return JsonNode.Parse(document)!.ToJsonString(IndentedJson) + "\n";
        }
        catch (JsonException)
        {
            return document;
        }
    }

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}

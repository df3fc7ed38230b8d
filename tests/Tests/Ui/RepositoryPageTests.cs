using System.Net;
using System.Text.RegularExpressions;
using OpenQA.Selenium;
using Xunit;
using static CiTrigger.Tests.Ui.RepositoryPageFixture;

namespace CiTrigger.Tests.Ui;

/// <summary>
/// The overview's Repositories section and the repository page (<c>/ui/repos/{owner}/{repo}</c>) against a service
/// that reads Repository resources, one of them with a run holding its only slot and two deliveries waiting: over
/// plain HTTP, and in a real browser.
/// </summary>
public partial class RepositoryPageTests(RepositoryPageFixture fixture) : IClassFixture<RepositoryPageFixture>
{
    private Browser Browser => fixture.Browser;

    [GeneratedRegex("""<td data-label="Setting"><code>(\w+)</code></td><td data-label="Value">(.*?)</td>""", RegexOptions.Singleline)]
    private static partial Regex SettingRow();

    [GeneratedRegex("""href="/ui/deliveries/([^"]+)".*?href="/ui/repos/octo/ui-limited/refs/heads/([^"]+)".*?<time datetime="([^"]+)""", RegexOptions.Singleline)]
    private static partial Regex SlotRow();

    [GeneratedRegex("href=\"/ui/repos/octo/ui-limited/refs/heads/([^\"]+)\"")]
    private static partial Regex RefLink();

    /// <summary>The markup of each body row of the page's table of class <paramref name="css"/>, from just after its <c>&lt;tr</c>.</summary>
    private static List<string> Rows(string html, string css)
    {
        var start = html.IndexOf($"<table class=\"{css}\">", StringComparison.Ordinal);
        Assert.True(start >= 0, $"the page has no table.{css}");
        var table = html[start..html.IndexOf("</table>", start, StringComparison.Ordinal)];
        return [.. table[table.IndexOf("<tbody>", StringComparison.Ordinal)..].Split("<tr").Skip(1)];
    }

    private async Task<(HttpStatusCode Status, string Html)> GetAsync(string path)
    {
        using var response = await fixture.Service.Client.GetAsync(path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_overview_lists_every_repository_resource_with_its_runs_and_marks_those_not_ready()
    {
        var (status, html) = await GetAsync("/ui");
        var rows = Rows(html, "repositories");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, rows.Count);
        var limited = Assert.Single(rows, r => r.Contains("<code>ci/limited</code>", StringComparison.Ordinal));
        var copy = Assert.Single(rows, r => r.Contains("<code>ci/limited-copy</code>", StringComparison.Ordinal));
        var refused = Assert.Single(rows, r => r.Contains("<code>ci/refused</code>", StringComparison.Ordinal));
        Assert.StartsWith(">", limited, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"/ui/repos/{Limited}\">{Limited}</a>", limited, StringComparison.Ordinal);
        Assert.Contains("<span class=\"state state-ready\">ready</span> <span class=\"muted\">Accepted</span>", limited, StringComparison.Ordinal);
        Assert.Contains("<td data-label=\"Runs\">1 of 1 running, 2 waiting</td>", limited, StringComparison.Ordinal);
        Assert.StartsWith(" class=\"not-ready\">", copy, StringComparison.Ordinal);
        Assert.Contains("<span class=\"state state-not-ready\">not ready</span> <span class=\"muted\">Duplicate</span>", copy, StringComparison.Ordinal);
        Assert.Contains($"already configured by the older Repository ci/limited", copy, StringComparison.Ordinal);
        Assert.Contains("<td data-label=\"Runs\"><span class=\"muted\" title=\"not in use\">—</span></td>", copy, StringComparison.Ordinal);
        Assert.StartsWith(" class=\"not-ready\">", refused, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"/ui/repos/{Refused}\">{Refused}</a>", refused, StringComparison.Ordinal);

        // Announced above the events, which can be a long table.
        var events = html.IndexOf("<table class=\"events\"", StringComparison.Ordinal);
        var notice = html.IndexOf("2 Repository resources are not ready: see <a href=\"/ui#repositories\">Repositories</a>", StringComparison.Ordinal);
        Assert.InRange(notice, 0, events);
    }

    [Fact]
    public async Task The_repository_page_shows_its_resource_settings_runs_waiting_deliveries_and_refs()
    {
        // The address is matched as GitHub matches repositories, without regard to case.
        var (status, html) = await GetAsync("/ui/repos/Octo/UI-Limited");
        var settings = SettingRow().Matches(html).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        var running = Rows(html, "running").Select(r => SlotRow().Match(r)).ToList();
        var waiting = Rows(html, "waiting").Select(r => SlotRow().Match(r)).ToList();
        var refs = Rows(html, "refs").Select(r => RefLink().Match(r).Groups[1].Value);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains($"<h1>{Limited}</h1>", html, StringComparison.Ordinal);
        Assert.Contains("<dt>Paused</dt><dd>no</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<dt>Repository resource</dt><dd><code>ci/limited</code></dd>", html, StringComparison.Ordinal);
        Assert.Contains("<dt>Runs</dt><dd>1 of 1 running, 2 waiting</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<li><code>ci/limited-copy</code>: Duplicate: the repository octo/ui-limited is already configured", html, StringComparison.Ordinal);

        Assert.Equal(["namespace", "pipelineDirectory", "trustedAssociations", "cancelSuperseded", "concurrencyLimit", "params", "keepRuns"], settings.Keys);
        Assert.Equal("<span class=\"muted\">global (<code>Handler:Namespace</code>)</span>", settings["namespace"]);
        Assert.Equal("<span class=\"muted\">global (<code>Handler:PipelineDirectory</code>)</span>", settings["pipelineDirectory"]);
        Assert.Equal("OWNER", settings["trustedAssociations"]);
        Assert.Equal("<span class=\"muted\">global (<code>Handler:CancelSuperseded</code>)</span>", settings["cancelSuperseded"]);
        Assert.Equal("1", settings["concurrencyLimit"]);
        Assert.Equal("<ul class=\"params\"><li><code>greeting</code> = <code>&lt;script&gt;window.pwned=3&lt;/script&gt;</code></li></ul>", settings["params"]);
        Assert.Equal("<span class=\"muted\">none: no finished run is deleted</span>", settings["keepRuns"]);

        Assert.Contains("<p class=\"run-count\">1 of 1 running, 2 waiting</p>", html, StringComparison.Ordinal);
        Assert.Equal([(fixture.Running, "main")], running.Select(m => (m.Groups[1].Value, m.Groups[2].Value)));
        Assert.Equal([(fixture.Waiting[0], "a"), (fixture.Waiting[1], "b")], waiting.Select(m => (m.Groups[1].Value, m.Groups[2].Value)));
        Assert.All(Rows(html, "waiting").Select((r, i) => (r, i)), w => Assert.Contains($"<td data-label=\"#\">{w.i + 1}</td>", w.r, StringComparison.Ordinal));
        Assert.Equal(["a", "b", "main"], refs.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_refused_specs_message_and_a_parameter_that_are_markup_are_shown_as_text()
    {
        const string Message = "spec.params: &#x27;&quot;&gt;&lt;script&gt;window.pwned=4&lt;/script&gt;&#x27; is no parameter name";
        var (overviewStatus, overview) = await GetAsync("/ui");
        var (refusedStatus, refused) = await GetAsync($"/ui/repos/{Refused}");
        var (limitedStatus, limited) = await GetAsync($"/ui/repos/{Limited}");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK), (overviewStatus, refusedStatus, limitedStatus));
        foreach (var html in new[] { overview, refused, limited })
        {
            Assert.DoesNotContain("<script>window.pwned", html, StringComparison.Ordinal);
            Assert.DoesNotContain(HostileName, html, StringComparison.Ordinal);
        }

        Assert.Contains(Message, overview, StringComparison.Ordinal);
        Assert.Contains($"<li><code>ci/refused</code>: InvalidSpec: {Message}", refused, StringComparison.Ordinal);
        Assert.Contains("<dt>Repository resource</dt><dd>none usable: every setting is the global option</dd>", refused, StringComparison.Ordinal);
        Assert.Contains("No events are known for any of its refs.", refused, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;window.pwned=3&lt;/script&gt;", limited, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_name_that_is_no_repository_is_answered_400_and_an_unknown_repository_404()
    {
        var answers = new Dictionary<string, (HttpStatusCode Status, string Html)>();
        foreach (var path in new[] { "/ui/repos/octo/app%0A", "/ui/repos/octo/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "/ui/repos/-octo/app", "/ui/repos/octo/nothing-here" })
        {
            answers[path] = await GetAsync(path);
        }

        Assert.All(answers.Take(3), a =>
        {
            Assert.Equal(HttpStatusCode.BadRequest, a.Value.Status);
            Assert.Contains("<h1>Not a repository</h1>", a.Value.Html, StringComparison.Ordinal);
            Assert.DoesNotContain("<script>alert", a.Value.Html, StringComparison.Ordinal);
        });
        Assert.Equal(HttpStatusCode.NotFound, answers["/ui/repos/octo/nothing-here"].Status);
        Assert.Contains("No events and no Repository resource are known for octo/nothing-here.", answers["/ui/repos/octo/nothing-here"].Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_a_browser_the_overview_leads_to_the_repository_page_with_the_run_holding_the_slot_and_those_waiting()
    {
        Browser.Open(fixture.Address("/ui"));
        var notReady = Browser.Texts("table.repositories tr.not-ready td[data-label=Resource]");
        Browser.FullPageScreenshot("overview-repositories", 1366);
        await Browser.FollowAsync(By.CssSelector($"table.repositories a[href='/ui/repos/{Limited}']"));
        Browser.FullPageScreenshot("repository", 1366);
        Browser.FullPageScreenshot("repository-phone", 390);

        var count = Browser.Driver.FindElement(By.CssSelector(".run-count")).Text;
        var running = Slots("table.running");
        var waiting = Slots("table.waiting");
        var positions = Browser.Texts("table.waiting td[data-label='#']");
        var greeting = Browser.Driver.FindElement(By.CssSelector("ul.params li")).Text;
        var pwned = Browser.Script("return window.pwned === undefined ? 'no' : 'yes';");
        await Browser.FollowAsync(By.CssSelector("table.running td[data-label=Ref] a"));
        var refHeading = Browser.Driver.FindElement(By.TagName("h1")).Text;
        await Browser.FollowAsync(By.CssSelector(".crumbs a"));

        Assert.Equal(["ci/limited-copy", "ci/refused"], notReady);
        Assert.Equal("1 of 1 running, 2 waiting", count);
        Assert.Equal([(fixture.Running, "main")], running);
        Assert.Equal([(fixture.Waiting[0], "a"), (fixture.Waiting[1], "b")], waiting);
        Assert.Equal(["1", "2"], positions);
        Assert.Equal($"greeting = {ScriptValue}", greeting);
        Assert.Equal(("no", "main"), (pwned, refHeading));
        Assert.EndsWith($"/ui/repos/{Limited}", Browser.Driver.Url, StringComparison.Ordinal);
    }

    [Fact]
    public void The_repository_pages_and_the_overviews_repositories_pass_the_axe_checks_for_wcag_2_aa()
    {
        var violations = new List<string>();
        foreach (var (path, width) in new[] { "/ui", $"/ui/repos/{Limited}", $"/ui/repos/{Refused}" }.SelectMany(p => new[] { (p, 1366), (p, 390) }))
        {
            Browser.Driver.Manage().Window.Size = new System.Drawing.Size(width, 900);
            Browser.Open(fixture.Address(path));
            violations.AddRange(Browser.AxeViolations().Select(v => $"{path} at {width}px: {v}"));
        }

        Browser.Driver.Manage().Window.Size = new System.Drawing.Size(1366, 900);
        Assert.Empty(violations);
    }

    /// <summary>Each row of a slot table as (delivery, ref), read from the delivery link's title and the ref link's text.</summary>
    private List<(string Delivery, string Ref)> Slots(string table) =>
        [.. ((IReadOnlyCollection<object>)Browser.Script($$"""
            return Array.from(document.querySelectorAll("{{table}} tbody tr"))
              .map(r => [r.querySelector("td[data-label=Delivery] a").title, r.querySelector("td[data-label=Ref] a").innerText]);
            """)!).Cast<IReadOnlyCollection<object>>().Select(c => c.Cast<string>().ToArray()).Select(c => (c[0], c[1]))];
}

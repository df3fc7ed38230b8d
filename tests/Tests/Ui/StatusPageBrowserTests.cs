using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Tests.EndToEnd;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using OpenQA.Selenium;
using Xunit;

namespace CiTrigger.Tests.Ui;

/// <summary>
/// The status page in a real browser (headless Chromium) against a running service with events in every
/// state: what it lists, how it filters and refreshes, what its buttons do, and that names which are
/// markup stay text. Each page leaves a screenshot under the test output's <c>screenshots/</c>.
/// </summary>
public class StatusPageBrowserTests(StatusPageFixture fixture) : IClassFixture<StatusPageFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>The states the service produces today, as the page words them.</summary>
    private static readonly string[] ProducedStates = ["queued", "waiting for approval", "in flight", "retrying", "applied", "failed", "skipped"];

    private Browser Browser => fixture.Browser;

    /// <summary>
    /// The overview's rows as (repository, ref, state) once <paramref name="ready"/> holds for them, read in
    /// one script call: the page swaps its rows while it refreshes, which would leave element handles stale.
    /// </summary>
    private async Task<List<(string Repository, string Ref, string State)>> RowsAsync(Func<List<(string Repository, string Ref, string State)>, bool> ready, string what) =>
        await Eventually.Until(() =>
        {
            var cells = (IReadOnlyCollection<object>)Browser.Script("""
                return Array.from(document.querySelectorAll("table.events tbody tr"))
                  .filter(r => r.querySelector(".state"))
                  .map(r => [r.querySelector("td[data-label=Repository]").innerText, r.querySelector("td[data-label=Ref]").innerText, r.querySelector(".state").innerText]);
                """)!;
            var rows = cells.Cast<IReadOnlyCollection<object>>().Select(c => c.Cast<string>().ToArray()).Select(c => (c[0], c[1], c[2])).ToList();
            return Task.FromResult(ready(rows) ? rows : null);
        }, Patience, what);

    [Fact]
    public async Task The_overview_lists_events_in_every_state_and_the_filters_narrow_them()
    {
        Browser.Open(fixture.Address("/ui"));
        var all = await RowsAsync(rows => ProducedStates.All(s => rows.Any(r => r.State == s)),
            "every state on the overview (the page refreshes itself)");
        Browser.FullPageScreenshot("overview", 1366);
        Browser.FullPageScreenshot("overview-phone", 390);

        Browser.Driver.FindElement(By.CssSelector($"#state option[value='{EventStates.Failed}']")).Click();
        Browser.Driver.FindElement(By.CssSelector("form.filters button[type=submit]")).Click();
        var failed = await RowsAsync(rows => rows.All(r => r.State == "failed") && rows.Count > 0, "only failed events");
        var stateInUrl = Browser.Driver.Url;
        Browser.Open(fixture.Address("/ui"));
        var text = Browser.Driver.FindElement(By.Id("q"));
        text.SendKeys("stuck");
        text.SendKeys(Keys.Enter);
        var stuck = await RowsAsync(rows => rows.Count == 1 && rows[0].Ref == "stuck", "the text filter");

        Assert.Contains((StatusPageFixture.Applied, "main", "applied"), all);
        Assert.Contains((StatusPageFixture.Busy, "main", "in flight"), all);
        Assert.Contains((StatusPageFixture.Queued, "main", "queued"), all);
        Assert.Contains((StatusPageFixture.Pulls, "PR #7", "waiting for approval"), all);
        Assert.Contains((StatusPageFixture.Retrying, "skipped", "skipped"), all);
        Assert.Equal([(StatusPageFixture.Failed, "main", "failed")], failed);
        Assert.Contains("state=failed", stateInUrl, StringComparison.Ordinal);
        Assert.Equal(StatusPageFixture.Retrying, stuck[0].Repository);
    }

    [Fact]
    public async Task The_overview_shows_a_new_event_without_a_reload()
    {
        Browser.Open(fixture.Address("/ui"));
        await RowsAsync(rows => rows.Count > 0, "the first rows");
        Browser.Script("window.sameDocument = 'yes';");
        var repo = fixture.Env.GitHub.Repo("octo/ui-late");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        using var accepted = await fixture.Env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.ZeroSha, after));

        await RowsAsync(rows => rows.Any(r => r.Repository == repo.FullName && r.State == "applied"), "the new event, applied, in place");

        Assert.Equal("yes", Browser.Script("return window.sameDocument;"));
    }

    [Fact]
    public async Task Skipping_a_stuck_head_asks_first_then_records_it_as_skipped()
    {
        Browser.Open(fixture.Address($"/ui/repos/{StatusPageFixture.Retrying}/refs/heads/stuck"));
        Browser.FullPageScreenshot("ref", 1366);

        await Browser.FollowAsync(By.XPath("//button[normalize-space()='Skip head…']"));
        var question = Browser.Driver.FindElement(By.TagName("h1")).Text;
        var stillQueued = (await fixture.Env.StateAsync(StatusPageFixture.Retrying, "refs/heads/stuck"))!;
        Browser.Screenshot("ref-confirm-skip");
        await Browser.FollowAsync(By.XPath("//button[normalize-space()='Yes, skip it']"));
        var notice = Browser.Driver.FindElement(By.CssSelector(".notice")).Text;
        var outcome = Browser.Texts("table.history .state");
        var state = (await fixture.Env.StateAsync(StatusPageFixture.Retrying, "refs/heads/stuck"))!;

        Assert.Equal("Skip the head of stuck?", question);
        Assert.Equal(1, IsolatedService.Queued(stillQueued));
        Assert.Equal("The head of the queue was skipped.", notice);
        Assert.Equal(["skipped"], outcome);
        Assert.Equal((0, "skipped"), (IsolatedService.Queued(state), state["history"]![0]!["outcome"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Pause_and_resume_buttons_change_the_ref_and_say_so()
    {
        var page = fixture.Address($"/ui/repos/{StatusPageFixture.Applied}/refs/heads/main");
        Browser.Open(page);

        await Browser.FollowAsync(By.XPath("//button[normalize-space()='Pause processing']"));
        var pausedNotice = Browser.Driver.FindElement(By.CssSelector(".notice")).Text;
        var paused = (await fixture.Env.StateAsync(StatusPageFixture.Applied, "refs/heads/main"))!["paused"]!.GetValue<bool>();
        await Browser.FollowAsync(By.XPath("//button[normalize-space()='Resume processing']"));
        var resumedNotice = Browser.Driver.FindElement(By.CssSelector(".notice")).Text;
        var resumed = (await fixture.Env.StateAsync(StatusPageFixture.Applied, "refs/heads/main"))!["paused"]!.GetValue<bool>();

        Assert.Equal(("Paused: events are queued but not processed.", true), (pausedNotice, paused));
        Assert.Equal(("Resumed.", false), (resumedNotice, resumed));
        Assert.StartsWith(page.AbsoluteUri, Browser.Driver.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refs_and_actions_that_are_markup_are_shown_as_text_and_never_run()
    {
        Browser.Open(fixture.Address($"/ui?repo={StatusPageFixture.Hostile}"));
        var rows = await RowsAsync(rows => rows.Count == 2, "both events of the hostile repository");
        var events = Browser.Texts("table.events td[data-label=Event]");
        var images = Browser.Driver.FindElements(By.CssSelector("main img, main b")).Count;
        var scripts = Browser.Driver.FindElements(By.TagName("script")).Count;
        var pwned = Browser.Script("return window.pwned === undefined ? 'no' : 'yes';");
        await Browser.FollowAsync(By.LinkText(StatusPageFixture.ScriptBranch));
        var heading = Browser.Driver.FindElement(By.TagName("h1")).Text;
        var refCode = Browser.Driver.FindElement(By.CssSelector(".facts code")).Text;
        var pwnedOnRefPage = Browser.Script("return window.pwned === undefined ? 'no' : 'yes';");

        Assert.Equal([StatusPageFixture.AttributeBranch, StatusPageFixture.ScriptBranch], rows.Select(r => r.Ref).Order(StringComparer.Ordinal));
        Assert.Contains($"check_suite ({StatusPageFixture.MarkupAction})", events);
        Assert.Equal((0, 1, "no"), (images, scripts, pwned));
        Assert.Equal((StatusPageFixture.ScriptBranch, "refs/heads/" + StatusPageFixture.ScriptBranch, "no"), (heading, refCode, pwnedOnRefPage));
    }

    [Fact]
    public void Every_page_passes_the_axe_checks_for_wcag_2_aa_and_starts_with_a_skip_link()
    {
        var pages = new[]
        {
            "/ui", $"/ui?state={EventStates.Retrying}", $"/ui/repos/{StatusPageFixture.Retrying}/refs/heads/main",
            $"/ui/repos/{StatusPageFixture.Applied}/refs/heads/main", $"/ui/deliveries/{fixture.AppliedDelivery}", $"/ui/deliveries/{fixture.FailedDelivery}",
        };
        var violations = new List<string>();
        var firstFocus = new List<string>();
        foreach (var (path, width) in pages.SelectMany(p => new[] { (p, 1366), (p, 390) }))
        {
            Browser.Driver.Manage().Window.Size = new System.Drawing.Size(width, 900);
            Browser.Open(fixture.Address(path));
            violations.AddRange(Browser.AxeViolations().Select(v => $"{path} at {width}px: {v}"));
            Browser.Driver.FindElement(By.TagName("body")).SendKeys(Keys.Tab);
            firstFocus.Add(Browser.Driver.SwitchTo().ActiveElement().Text);
        }

        Browser.Driver.Manage().Window.Size = new System.Drawing.Size(1366, 900);
        Assert.Empty(violations);
        Assert.All(firstFocus, text => Assert.Equal("Skip to content", text));
    }

    [Fact]
    public async Task The_rerun_button_of_a_finished_delivery_queues_it_again_and_opens_the_rerun()
    {
        var rerun = $"{fixture.AppliedDelivery}-rerun-1";
        await fixture.Env.WaitForAsync(StatusPageFixture.Applied, "refs/heads/main", s => IsolatedService.Finished(s) >= 1, "the applied push");
        Browser.Open(fixture.Address($"/ui/deliveries/{fixture.AppliedDelivery}"));

        await Browser.FollowAsync(By.XPath("//button[normalize-space()='Re-run']"));
        var heading = Browser.Driver.FindElement(By.TagName("h1")).Text;
        var rerunOf = Browser.Driver.FindElement(By.XPath("//dt[normalize-space()='Re-run of']/following-sibling::dd[1]")).Text;
        var headers = Browser.Driver.FindElement(By.Id("no-webhook")).Text;
        var claimedHeaders = Browser.Driver.FindElements(By.XPath("//dt[normalize-space()='X-GitHub-Delivery']")).Count;
        Browser.Screenshot("delivery-rerun");
        var state = await fixture.Env.WaitForAsync(StatusPageFixture.Applied, "refs/heads/main",
            s => s["history"]!.AsArray().Any(h => h!["event"]!["delivery"]!.GetValue<string>() == rerun), "the re-run finished");

        Assert.Equal($"Delivery {rerun}", heading);
        Assert.Equal(fixture.AppliedDelivery, rerunOf);
        Assert.Contains($"run {fixture.AppliedDelivery} again", headers, StringComparison.Ordinal);
        Assert.Contains($"Its id {rerun} is the service's", headers, StringComparison.Ordinal);
        Assert.Equal(0, claimedHeaders);
        Assert.EndsWith($"/ui/deliveries/{rerun}", Browser.Driver.Url, StringComparison.Ordinal);
        var finished = state["history"]!.AsArray().First(h => h!["event"]!["delivery"]!.GetValue<string>() == rerun)!;
        Assert.Equal(("applied", fixture.AppliedDelivery), (finished["outcome"]!.GetValue<string>(), finished["event"]!["rerunOf"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_delivery_page_shows_its_fields_attempts_objects_and_the_manifest_as_applied()
    {
        await Eventually.Until(async () =>
        {
            using var response = await fixture.Env.Service.Client.GetAsync($"/admin/deliveries/{fixture.AppliedDelivery}/manifest");
            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonObject>() : null;
        }, Patience, "the kept manifest");
        Browser.Open(fixture.Address($"/ui/deliveries/{fixture.AppliedDelivery}"));
        Browser.FullPageScreenshot("delivery", 1366);

        var state = Browser.Driver.FindElement(By.CssSelector(".facts .state")).Text;
        var attempts = Browser.Texts("table.attempts tbody tr");
        var applied = Browser.Driver.FindElement(By.CssSelector("ul.objects a"));
        var (appliedText, appliedLink) = (applied.Text, applied.GetAttribute("href"));
        var manifest = Browser.Driver.FindElement(By.CssSelector("pre.manifest")).Text;
        var status = Browser.Driver.FindElement(By.XPath("//h2[.='Commit status']/following-sibling::p[1]")).Text;
        Browser.Open(fixture.Address($"/ui/deliveries/{fixture.FailedDelivery}"));
        var error = Browser.Driver.FindElement(By.CssSelector("main .notice-error")).Text;

        var created = Assert.Single(fixture.Env.Kubernetes.Creations, c => c["metadata"]!["annotations"]!["k8s-webhook-handler.io/delivery"]!.GetValue<string>() == fixture.AppliedDelivery);
        var name = created["metadata"]!["name"]!.GetValue<string>();
        Assert.Equal("applied", state);
        Assert.Single(attempts);
        Assert.Equal(($"Workflow {name}", $"https://argo.example.com/workflows/ci/{name}"), (appliedText, appliedLink));
        Assert.Contains($"\"k8s-webhook-handler.io/delivery\": \"{fixture.AppliedDelivery}\"", manifest, StringComparison.Ordinal);
        Assert.Contains($"ci/k8s of {created["metadata"]!["annotations"]!["k8s-webhook-handler.io/revision"]}", status, StringComparison.Ordinal);
        Assert.Contains($"https://argo.example.com/workflows/ci/{name}", status, StringComparison.Ordinal);
        Assert.Contains(".ci/workflow.yaml", error, StringComparison.Ordinal);
    }
}

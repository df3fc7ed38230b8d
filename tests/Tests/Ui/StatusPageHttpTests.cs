using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CiTrigger.Tests.EndToEnd;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Ui;

/// <summary>The status page over plain HTTP: who may see it, what its forms accept, how it answers bad input.</summary>
public partial class StatusPageHttpTests
{
    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex FormToken();

    /// <summary>A client that keeps cookies, as a browser does (the antiforgery token pairs with one).</summary>
    private static HttpClient Browserlike(IsolatedService env) =>
        new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = env.Service.Client.BaseAddress };

    private static async Task<IsolatedService> WithAppliedPushAsync(string repository, string gitRef = "refs/heads/main", IDictionary<string, string>? settings = null)
    {
        var env = await IsolatedService.StartAsync(settings);
        var repo = env.GitHub.Repo(repository);
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        using var accepted = await env.Service.SendAsync("push", Payloads.Push(repository, gitRef, Payloads.ZeroSha, after));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        return env;
    }

    private static FormUrlEncodedContent Form(string token) => new([new("__RequestVerificationToken", token)]);

    /// <summary>A form post as a browser sends it from a page of this service, or from another site.</summary>
    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string path, HttpContent content, string site = "same-origin")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Add("Sec-Fetch-Site", site);
        return client.SendAsync(request);
    }

    [Fact]
    public async Task With_an_admin_token_the_pages_require_it_and_a_browser_signs_in_at_the_admin_login()
    {
        const string Token = "a-token-of-at-least-16-chars";
        await using var env = await IsolatedService.StartAsync(new Dictionary<string, string> { ["Admin:Token"] = Token });

        using var client = Browserlike(env);
        using var anonymous = await client.GetAsync("/ui");
        using var browser = new HttpRequestMessage(HttpMethod.Get, "/ui?state=failed");
        browser.Headers.Accept.ParseAdd("text/html");
        using var redirected = await client.SendAsync(browser);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ui");
        request.Headers.Authorization = new("Bearer", Token);
        using var authorized = await client.SendAsync(request);
        using var login = await PostAsync(client, "/admin/login", new FormUrlEncodedContent([new("token", Token), new("returnUrl", "/ui")]));
        using var signedIn = new HttpRequestMessage(HttpMethod.Get, "/ui");
        signedIn.Headers.Add("Cookie", login.Headers.GetValues("Set-Cookie").Single().Split(';')[0]);
        using var withSession = await client.SendAsync(signedIn);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal((HttpStatusCode.Redirect, "/admin/login?returnUrl=%2Fui%3Fstate%3Dfailed"), (redirected.StatusCode, redirected.Headers.Location!.OriginalString));
        Assert.Equal(HttpStatusCode.OK, authorized.StatusCode);
        Assert.Equal("text/html", authorized.Content.Headers.ContentType!.MediaType);
        Assert.Equal((HttpStatusCode.Redirect, "/ui"), (login.StatusCode, login.Headers.Location!.OriginalString));
        Assert.Equal(HttpStatusCode.OK, withSession.StatusCode);
    }

    [Fact]
    public async Task A_button_press_without_the_form_token_or_from_another_site_changes_nothing()
    {
        await using var env = await WithAppliedPushAsync("octo/ui-forms");
        await env.WaitForAsync("octo/ui-forms", "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the push applied");
        using var client = Browserlike(env);
        const string Pause = "/ui/repos/octo/ui-forms/refs/heads/main/pause";
        var page = await client.GetStringAsync("/ui/repos/octo/ui-forms/refs/heads/main");
        var token = WebUtility.HtmlDecode(FormToken().Match(page).Groups[1].Value);

        using var withoutToken = await PostAsync(client, Pause, new FormUrlEncodedContent([]));
        using var crossOrigin = new HttpRequestMessage(HttpMethod.Post, Pause) { Content = Form(token) };
        crossOrigin.Headers.Add("Origin", "https://evil.example");
        using var fromOrigin = await client.SendAsync(crossOrigin);
        using var fromSite = await PostAsync(client, Pause, Form(token), site: "cross-site");
        using var neither = await client.PostAsync(Pause, Form(token));
        using var otherClient = Browserlike(env);
        using var tokenWithoutCookie = await PostAsync(otherClient, Pause, Form(token));
        var untouched = (await env.StateAsync("octo/ui-forms", "refs/heads/main"))!;
        using var sameSite = new HttpRequestMessage(HttpMethod.Post, Pause) { Content = Form(token) };
        sameSite.Headers.Add("Sec-Fetch-Site", "same-origin");
        sameSite.Headers.Add("Origin", client.BaseAddress!.GetLeftPart(UriPartial.Authority));
        using var done = await client.SendAsync(sameSite);
        var paused = (await env.StateAsync("octo/ui-forms", "refs/heads/main"))!;

        Assert.NotEmpty(token);
        Assert.Equal(
            (HttpStatusCode.BadRequest, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.BadRequest),
            (withoutToken.StatusCode, fromOrigin.StatusCode, fromSite.StatusCode, neither.StatusCode, tokenWithoutCookie.StatusCode));
        Assert.False(untouched["paused"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        Assert.Equal("/ui/repos/octo/ui-forms/refs/heads/main?notice=pause&done=true", done.Headers.Location!.OriginalString);
        Assert.True(paused["paused"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Every_page_encodes_names_that_are_markup_and_allows_only_its_own_script()
    {
        const string Branch = "refs/heads/<script>alert(1)</script>";
        var delivery = Guid.NewGuid().ToString();
        await using var env = await IsolatedService.StartAsync();
        var repo = env.GitHub.Repo("octo/ui-encoded");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        using var accepted = await env.Service.SendAsync("push", Payloads.Push(repo.FullName, Branch, Payloads.ZeroSha, after), delivery);

        var overview = await Eventually.Until(async () =>
        {
            var html = await env.Service.Client.GetStringAsync("/ui");
            return html.Contains("applied</span>", StringComparison.Ordinal) ? html : null;
        }, TimeSpan.FromSeconds(20), "the applied event on the overview");
        using var refPage = await env.Service.Client.GetAsync("/ui/repos/octo/ui-encoded/refs/heads/%3Cscript%3Ealert(1)%3C/script%3E");
        var refHtml = await refPage.Content.ReadAsStringAsync();
        var deliveryHtml = await env.Service.Client.GetStringAsync($"/ui/deliveries/{delivery}");

        foreach (var html in new[] { overview, refHtml, deliveryHtml })
        {
            Assert.DoesNotContain("<script>alert", html, StringComparison.Ordinal);
            Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.OK, refPage.StatusCode);
        var policy = refPage.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
        Assert.Equal("DENY", refPage.Headers.GetValues("X-Frame-Options").Single());
    }

    [Fact]
    public async Task Bad_filters_addresses_and_actions_are_answered_4xx_never_5xx()
    {
        await using var env = await WithAppliedPushAsync("octo/ui-bad");
        using var client = Browserlike(env);
        var token = WebUtility.HtmlDecode(FormToken().Match(await Eventually.Until(async () =>
        {
            using var response = await client.GetAsync("/ui/repos/octo/ui-bad/refs/heads/main");
            return response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync() : null;
        }, TimeSpan.FromSeconds(20), "the ref page")).Groups[1].Value);

        var answers = new Dictionary<string, HttpStatusCode>();
        foreach (var path in new[]
        {
            "/ui?state=exploded", "/ui?repo=not-a-repo", "/ui?before=yesterday", "/ui?q=" + Uri.EscapeDataString("line\nbreak"),
            "/ui/events?state=exploded", "/ui/deliveries/not%20an%20id", $"/ui/deliveries/{Guid.NewGuid()}",
            "/ui/repos/octo/ui-bad/refs/heads/nothing-here", "/ui/repos/octo/ui-bad/refs/heads/a..b", "/ui/assets/missing.css",
            "/admin/events?state=exploded", "/admin/events?limit=0",
        })
        {
            using var response = await client.GetAsync(path);
            answers[path] = response.StatusCode;
        }

        using var unknownAction = await PostAsync(client, "/ui/repos/octo/ui-bad/refs/heads/main/explode", Form(token));
        using var badRef = await PostAsync(client, "/ui/repos/octo/ui-bad/refs/heads/a..b/pause", Form(token));
        using var notAForm = await PostAsync(client, "/ui/repos/octo/ui-bad/refs/heads/main/pause", JsonContent.Create(new { paused = true }));

        Assert.Equal(HttpStatusCode.BadRequest, answers["/ui?state=exploded"]);
        Assert.Equal(HttpStatusCode.BadRequest, answers["/ui?repo=not-a-repo"]);
        Assert.Equal(HttpStatusCode.BadRequest, answers["/ui?before=yesterday"]);
        Assert.Equal(HttpStatusCode.BadRequest, answers["/ui?q=line%0Abreak"]);
        Assert.Equal(HttpStatusCode.BadRequest, answers["/ui/events?state=exploded"]);
        Assert.Equal(HttpStatusCode.BadRequest, answers["/ui/deliveries/not%20an%20id"]);
        Assert.Equal(HttpStatusCode.NotFound, answers.Single(a => a.Key.StartsWith("/ui/deliveries/", StringComparison.Ordinal) && !a.Key.Contains("%20", StringComparison.Ordinal)).Value);
        Assert.Equal(HttpStatusCode.NotFound, answers["/ui/repos/octo/ui-bad/refs/heads/nothing-here"]);
        Assert.Equal(HttpStatusCode.BadRequest, answers["/ui/repos/octo/ui-bad/refs/heads/a..b"]);
        Assert.Equal(HttpStatusCode.NotFound, answers["/ui/assets/missing.css"]);
        Assert.Equal(HttpStatusCode.BadRequest, answers["/admin/events?state=exploded"]);
        Assert.Equal(HttpStatusCode.BadRequest, answers["/admin/events?limit=0"]);
        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.BadRequest), (unknownAction.StatusCode, badRef.StatusCode, notAForm.StatusCode));
    }

    [Fact]
    public async Task Without_a_cluster_there_are_no_repository_resources_and_a_repository_page_shows_the_global_options()
    {
        // Dry run, the default without a cluster: no Repository resources at all.
        await using var env = await IsolatedService.StartAsync(new Dictionary<string, string> { ["Handler:TrustedAssociations"] = "owner,contributor" }, dryRun: true);
        var repo = env.GitHub.Repo("octo/ui-global");
        using var accepted = await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.ZeroSha, repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow)));

        var page = await Eventually.Until(async () =>
        {
            using var response = await env.Service.Client.GetAsync("/ui/repos/octo/ui-global");
            return response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync() : null;
        }, TimeSpan.FromSeconds(20), "the repository page once its ref is known");
        using var overview = await env.Service.Client.GetAsync("/ui");
        var overviewHtml = await overview.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, overview.StatusCode);
        Assert.Contains("<h2 id=\"repositories\">Repositories</h2>\n<p class=\"muted\">No Repository resources: every repository uses the global options.</p>", overviewHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("<table class=\"repositories\">", overviewHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("not ready", overviewHtml, StringComparison.Ordinal);
        Assert.Contains("<dt>Repository resource</dt><dd>none usable: every setting is the global option</dd>", page, StringComparison.Ordinal);
        Assert.Contains("<span class=\"muted\">global (<code>Handler:TrustedAssociations</code>):</span> OWNER, CONTRIBUTOR", page, StringComparison.Ordinal);
        Assert.Contains("No <code>concurrencyLimit</code>", page, StringComparison.Ordinal);
        Assert.Contains("href=\"/ui/repos/octo/ui-global/refs/heads/main\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_admin_api_lists_recent_events_across_refs_with_their_state_and_first_object()
    {
        await using var env = await WithAppliedPushAsync("octo/ui-events");
        var repo = env.GitHub.Repo("octo/ui-events");
        using var second = await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/feature", Payloads.ZeroSha, repo.Commit("feature", "README.md", "no manifest")));

        var events = await Eventually.Until(async () =>
        {
            var page = await env.Service.Client.GetFromJsonAsync<JsonObject>("/admin/events?repo=octo/ui-events");
            return page!["events"]!.AsArray() is [{ } newest, { } oldest]
                && newest["state"]!.GetValue<string>() == "failed" && oldest["state"]!.GetValue<string>() == "applied" ? page : null;
        }, TimeSpan.FromSeconds(20), "both events in their final state");
        var failedOnly = await env.Service.Client.GetFromJsonAsync<JsonObject>("/admin/events?state=failed&q=FEATURE");

        var applied = events["events"]![1]!;
        Assert.Equal(("refs/heads/main", "Workflow", "ci"), (applied["ref"]!.GetValue<string>(), applied["firstObject"]!["kind"]!.GetValue<string>(), applied["firstObject"]!["namespace"]!.GetValue<string>()));
        Assert.NotNull(applied["finishedAt"]);
        Assert.Equal("refs/heads/feature", Assert.Single(failedOnly!["events"]!.AsArray())!["ref"]!.GetValue<string>());
    }
}

using System.Net;
using System.Text.RegularExpressions;
using CiTrigger.Tests.EndToEnd;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Reruns;

/// <summary>The delivery page's Re-run button over plain HTTP: shown for finished deliveries only, and bound by the same form rules as the ref's buttons.</summary>
public partial class RerunButtonHttpTests
{
    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex FormToken();

    private static HttpClient Browserlike(IsolatedService env) =>
        new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = env.Service.Client.BaseAddress };

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string? token, string site = "same-origin")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new FormUrlEncodedContent(token is null ? [] : [new("__RequestVerificationToken", token)]),
        };
        request.Headers.Add("Sec-Fetch-Site", site);
        return client.SendAsync(request);
    }

    [Fact]
    public async Task The_rerun_button_appears_once_a_delivery_finished_and_only_a_same_site_form_with_its_token_reruns()
    {
        await using var env = await IsolatedService.StartAsync();
        var repo = env.GitHub.Repo("octo/ui-rerun");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var delivery = Guid.NewGuid().ToString();
        var queued = Guid.NewGuid().ToString();
        using (await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.ZeroSha, after), delivery))
        {
        }

        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the push");
        using (await env.Service.Client.PostAsync($"/admin/repos/{repo.FullName}/refs/heads/main/pause", null))
        {
        }

        using (await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", after, repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow)), queued))
        {
        }

        using var client = Browserlike(env);
        var finishedPage = await client.GetStringAsync($"/ui/deliveries/{delivery}");
        var queuedPage = await client.GetStringAsync($"/ui/deliveries/{queued}");
        var token = WebUtility.HtmlDecode(FormToken().Match(finishedPage).Groups[1].Value);
        var rerun = $"/ui/deliveries/{delivery}/rerun";

        using var withoutToken = await PostAsync(client, rerun, null);
        using var crossSite = await PostAsync(client, rerun, token, site: "cross-site");
        using var ofQueued = await PostAsync(client, $"/ui/deliveries/{queued}/rerun", token);
        using var unknown = await PostAsync(client, $"/ui/deliveries/{Guid.NewGuid()}/rerun", token);
        var untouched = (await env.StateAsync(repo.FullName, "refs/heads/main"))!;
        using var done = await PostAsync(client, rerun, token);

        Assert.Contains($"action=\"/ui/deliveries/{delivery}/rerun\"", finishedPage, StringComparison.Ordinal);
        Assert.DoesNotContain("/rerun\"", queuedPage, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.Forbidden, HttpStatusCode.Conflict, HttpStatusCode.NotFound),
            (withoutToken.StatusCode, crossSite.StatusCode, ofQueued.StatusCode, unknown.StatusCode));
        Assert.Equal(1, IsolatedService.Queued(untouched));
        Assert.Equal((HttpStatusCode.Redirect, $"/ui/deliveries/{delivery}-rerun-1"), (done.StatusCode, done.Headers.Location!.OriginalString));
        var state = (await env.StateAsync(repo.FullName, "refs/heads/main"))!;
        Assert.Equal([queued, $"{delivery}-rerun-1"], state["queue"]!.AsArray().Select(p => p!["event"]!["delivery"]!.GetValue<string>()));
    }
}

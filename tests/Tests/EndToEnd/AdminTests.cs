using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CiTrigger.Gateway.Admin;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit;

namespace CiTrigger.Tests.EndToEnd;

public class AdminTests
{
    private const string Token = "admin-token-0123456789";

    [Fact]
    public async Task With_a_token_configured_every_admin_and_dashboard_request_needs_it()
    {
        await using var env = await IsolatedService.StartAsync(new Dictionary<string, string> { ["Admin:Token"] = Token });
        var client = env.Service.Client;

        async Task<HttpStatusCode> Get(string path, string? bearer)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (bearer is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            }

            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await Get("/admin/refs", null));
        Assert.Equal(HttpStatusCode.Unauthorized, await Get("/admin/refs", "wrong-token-0123456789"));
        Assert.Equal(HttpStatusCode.OK, await Get("/admin/refs", Token));
        Assert.Equal(HttpStatusCode.Unauthorized, await Get("/dashboard/", null));
        Assert.Equal(HttpStatusCode.OK, await Get("/dashboard/", Token));
    }

    [Theory]
    [InlineData("127.0.0.1", null)]
    [InlineData("::1", null)]
    [InlineData("10.1.2.3", StatusCodes.Status403Forbidden)]
    [InlineData("203.0.113.9", StatusCodes.Status403Forbidden)]
    public async Task Without_a_token_only_loopback_callers_are_served(string remote, int? refusal)
    {
        var failures = new FailedSignIns(TimeProvider.System, NullLogger<FailedSignIns>.Instance);
        var access = new AdminAccess(Options.Create(new AdminOptions()), failures, TimeProvider.System);
        var http = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider() };
        http.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        http.Request.Host = new HostString("localhost:8080");
        http.Response.Body = new MemoryStream();

        var result = access.Check(http);

        if (refusal is null)
        {
            Assert.Null(result);
        }
        else
        {
            await result!.ExecuteAsync(http);
            Assert.Equal(refusal, http.Response.StatusCode);
        }
    }

    [Fact]
    public async Task Refs_can_be_listed_filtered_and_looked_up_by_delivery()
    {
        await using var env = await IsolatedService.StartAsync();
        var good = env.GitHub.Repo("octo/listed");
        var after = good.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var delivery = Guid.NewGuid().ToString();
        await env.Service.SendAsync("push", Payloads.Push(good.FullName, "refs/heads/main", Payloads.Sha(1), after), delivery);
        await env.Service.SendAsync("push", Payloads.Push(good.FullName, "refs/heads/broken", Payloads.Sha(1), Payloads.Sha(2)));
        await env.WaitForAsync(good.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "main");
        await env.WaitForAsync(good.FullName, "refs/heads/broken", s => IsolatedService.Finished(s) == 1, "broken");

        var all = await Eventually.Until(async () =>
        {
            var page = await env.Service.Client.GetFromJsonAsync<JsonObject>("/admin/refs");
            return page!["refs"]!.AsArray().Count == 2 && page["refs"]!.AsArray().All(r => r!["state"]!.GetValue<string>() != "pending") ? page : null;
        }, TimeSpan.FromSeconds(10), "both refs in the catalog");
        var failing = await env.Service.Client.GetFromJsonAsync<JsonObject>("/admin/refs?state=failing");
        var byRepo = await env.Service.Client.GetFromJsonAsync<JsonObject>("/admin/refs?repo=octo/other");
        var record = await env.Service.Client.GetFromJsonAsync<JsonObject>($"/admin/deliveries/{delivery}");

        Assert.Equal(["octo/listed:refs/heads/broken", "octo/listed:refs/heads/main"], all["refs"]!.AsArray().Select(r => r!["key"]!.GetValue<string>()));
        var broken = Assert.Single(failing!["refs"]!.AsArray())!;
        Assert.Equal(("failed", 0), (broken["lastOutcome"]!.GetValue<string>(), broken["queueLength"]!.GetValue<int>()));
        Assert.Contains("was not found", broken["lastError"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(byRepo!["refs"]!.AsArray());
        Assert.Equal(("octo/listed:refs/heads/main", "applied"), (record!["key"]!.GetValue<string>(), record["status"]!.GetValue<string>()));
        Assert.Equal("Workflow", record["result"]!["objects"]![0]!["kind"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/admin/refs?state=bogus", HttpStatusCode.BadRequest)]
    [InlineData("/admin/refs?limit=0", HttpStatusCode.BadRequest)]
    [InlineData("/admin/refs?repo=../etc", HttpStatusCode.BadRequest)]
    [InlineData("/admin/repos/octo/app/refs/heads/a..b", HttpStatusCode.BadRequest)]
    [InlineData("/admin/repos/octo/app/refs/heads/never-seen", HttpStatusCode.NotFound)]
    [InlineData("/admin/deliveries/not%20an%20id", HttpStatusCode.BadRequest)]
    [InlineData("/admin/deliveries/0000-unknown", HttpStatusCode.NotFound)]
    public async Task Bad_or_unknown_admin_requests_get_a_clear_error(string path, HttpStatusCode expected)
    {
        await using var env = await IsolatedService.StartAsync();

        using var response = await env.Service.Client.GetAsync(path);

        Assert.Equal(expected, response.StatusCode);
        Assert.False(string.IsNullOrEmpty((await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Admin_answers_are_plain_JSON_without_HTML_escapes()
    {
        await using var env = await IsolatedService.StartAsync();
        var repo = env.GitHub.Repo("octo/escapes");
        var after = repo.Commit("main", ".ci/workflow.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: prod}\n");
        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after));
        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the refused manifest");

        var raw = await env.Service.Client.GetStringAsync($"/admin/repos/{repo.FullName}/refs/heads/main", TestContext.Current.CancellationToken);

        Assert.Contains("names namespace 'prod'", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u0027", raw, StringComparison.Ordinal);
    }
}

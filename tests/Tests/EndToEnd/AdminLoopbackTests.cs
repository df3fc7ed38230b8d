using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace CiTrigger.Tests.EndToEnd;

/// <summary>
/// Without <c>Admin:Token</c> the admin API, the status page and the dashboard trust loopback callers; a web
/// page open in a browser on the same machine is a loopback caller too, and must not be able to use them.
/// </summary>
[Collection(SharedService.Name)]
public class AdminLoopbackTests(ServiceFixture fixture)
{
    private HttpClient Client => fixture.Service.Client;

    private string Self => Client.BaseAddress!.GetLeftPart(UriPartial.Authority);

    private static string NewRepository() => $"octo/loopback-{Guid.NewGuid():N}"[..30];

    /// <summary>A POST with the headers a browser adds (none, like curl, when both are null).</summary>
    private async Task<HttpStatusCode> PostAsync(string path, string? origin, string? fetchSite)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        if (fetchSite is not null)
        {
            request.Headers.Add("Sec-Fetch-Site", fetchSite);
        }

        using var response = await Client.SendAsync(request);
        return response.StatusCode;
    }

    private async Task<HttpStatusCode> GetAsync(string path, string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = host;
        using var response = await Client.SendAsync(request);
        return response.StatusCode;
    }

    [Theory]
    [InlineData("https://evil.example", null)]
    [InlineData("null", null)]
    [InlineData("http://127.0.0.1:1", null)]
    [InlineData(null, "cross-site")]
    [InlineData(null, "same-site")]
    public async Task Without_a_token_a_post_from_another_sites_page_is_refused_and_changes_nothing(string? origin, string? fetchSite)
    {
        var repository = NewRepository();

        var answers = new[]
        {
            await PostAsync($"/admin/repos/{repository}/refs/heads/x/skip", origin, fetchSite),
            await PostAsync($"/admin/repos/{repository}/refs/heads/x/pause", origin, fetchSite),
            await PostAsync($"/admin/repos/{repository}/pause", origin, fetchSite),
            await PostAsync("/admin/deliveries/d-1/rerun", origin, fetchSite),
            await PostAsync($"/ui/repos/{repository}/refs/heads/x/pause", origin, fetchSite),
        };
        using var refState = await Client.GetAsync($"/admin/repos/{repository}/refs/heads/x");
        var repositoryState = await Client.GetFromJsonAsync<JsonObject>($"/admin/repos/{repository}");

        Assert.All(answers, status => Assert.Equal(HttpStatusCode.Forbidden, status));
        Assert.Equal(HttpStatusCode.NotFound, refState.StatusCode);
        Assert.False(repositoryState!["paused"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Without_a_token_the_services_own_pages_and_programs_on_the_machine_still_act()
    {
        var repository = NewRepository();

        var fromOwnPage = await PostAsync($"/admin/repos/{repository}/refs/heads/x/pause", Self, "same-origin");
        var typedIntoTheBrowser = await PostAsync($"/admin/repos/{repository}/refs/heads/y/pause", null, "none");
        var fromCurl = await PostAsync($"/admin/repos/{repository}/pause", null, null);
        var state = await Client.GetFromJsonAsync<JsonObject>($"/admin/repos/{repository}/refs/heads/x");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK), (fromOwnPage, typedIntoTheBrowser, fromCurl));
        Assert.True(state!["paused"]!.GetValue<bool>());
    }

    /// <summary>DNS rebinding: a page points its own name at 127.0.0.1 and reads the answers as its own; its name still arrives as the Host.</summary>
    [Theory]
    [InlineData("/admin/refs")]
    [InlineData("/admin/recovery")]
    [InlineData("/ui")]
    [InlineData("/dashboard/")]
    public async Task Without_a_token_a_request_for_a_name_that_is_not_loopback_is_refused(string path)
    {
        var port = Client.BaseAddress!.Port;

        var rebound = await GetAsync(path, $"rebind.evil.example:{port}");
        var loopbackNames = new[]
        {
            await GetAsync(path, $"localhost:{port}"),
            await GetAsync(path, $"127.0.0.1:{port}"),
            await GetAsync(path, $"[::1]:{port}"),
            await GetAsync(path, $"status.localhost:{port}"),
        };

        Assert.Equal(HttpStatusCode.Forbidden, rebound);
        Assert.All(loopbackNames, status => Assert.Equal(HttpStatusCode.OK, status));
    }
}

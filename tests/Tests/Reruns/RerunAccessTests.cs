using System.Net;
using System.Net.Http.Headers;
using CiTrigger.Tests.EndToEnd;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Reruns;

/// <summary>The operator's re-run is an admin POST: with <c>Admin:Token</c> set nobody else may start one.</summary>
public class RerunAccessTests
{
    private const string Token = "rerun-admin-token";

    [Fact]
    public async Task An_admin_rerun_without_the_token_is_refused_and_runs_nothing()
    {
        await using var env = await IsolatedService.StartAsync(new Dictionary<string, string> { ["Admin:Token"] = Token });
        var repo = env.GitHub.Repo("octo/rerun-access");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var delivery = Guid.NewGuid().ToString();
        env.Service.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var outsider = new HttpClient { BaseAddress = env.Service.Client.BaseAddress };
        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after), delivery);
        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the push");

        using var anonymous = await outsider.PostAsync($"/admin/deliveries/{delivery}/rerun", null);
        using var wrong = await outsider.SendAsync(Post(delivery, "not-the-token"));
        using var right = await outsider.SendAsync(Post(delivery, Token));

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Accepted), (anonymous.StatusCode, wrong.StatusCode, right.StatusCode));
        // The history is written before the queue lets the event go: wait for both.
        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 2 && IsolatedService.Queued(s) == 0, "two finished events, none queued");
        Assert.Equal(2, env.Kubernetes.Creations.Count);
    }

    private static HttpRequestMessage Post(string delivery, string token) => new(HttpMethod.Post, $"/admin/deliveries/{delivery}/rerun")
    {
        Headers = { Authorization = new AuthenticationHeaderValue("Bearer", token) },
    };
}

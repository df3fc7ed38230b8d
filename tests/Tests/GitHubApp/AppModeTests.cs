using CiTrigger.Tests.EndToEnd;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.GitHubApp;

/// <summary>The service as a GitHub App: every GitHub call carries an installation token of the event's repository.</summary>
public class AppModeTests
{
    private static async Task<(IsolatedService Env, AppIdentity App)> StartAsync(IDictionary<string, string>? more = null)
    {
        AppIdentity? app = null;
        var env = await IsolatedService.StartAsync(github => (app = AppIdentity.Register(github)).Settings(more));
        return (env, app!);
    }

    [Fact]
    public async Task An_event_reads_its_manifest_with_a_token_of_the_installation_its_payload_names()
    {
        var (env, app) = await StartAsync();
        await using var _ = env;
        using var __ = app;
        env.GitHub.Install(app.App, 11, "octo/app-mode");
        var repo = env.GitHub.Repo("octo/app-mode");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);

        await env.Service.SendAsync("push", Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after), 11));
        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the event");

        Assert.Equal("applied", state["history"]![0]!["outcome"]!.GetValue<string>());
        var token = Assert.Single(env.GitHub.UnrestrictedTokenRequests);
        Assert.Equal("/api/v3/app/installations/11/access_tokens", token.Path);
        Assert.StartsWith("Bearer ey", token.Authorization, StringComparison.Ordinal);
        var content = Assert.Single(env.GitHub.ContentRequests);
        Assert.StartsWith("token ghs_", content.Authorization, StringComparison.Ordinal);
        Assert.Equal(200, content.Status);
        Assert.DoesNotContain(env.GitHub.Requests, r => r.Path.EndsWith("/installation", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_an_installation_in_the_payload_the_repository_installation_is_looked_up_with_the_app_jwt()
    {
        var (env, app) = await StartAsync();
        await using var _ = env;
        using var __ = app;
        env.GitHub.Install(app.App, 12, "octo/app-lookup");
        var repo = env.GitHub.Repo("octo/app-lookup");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);

        await env.Service.SendAsync("push", Payloads.Uninstalled(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after)));
        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the event");

        Assert.Equal("applied", state["history"]![0]!["outcome"]!.GetValue<string>());
        var lookup = Assert.Single(env.GitHub.Requests, r => r.Path == "/api/v3/repos/octo/app-lookup/installation");
        Assert.StartsWith("Bearer ey", lookup.Authorization, StringComparison.Ordinal);
        Assert.Equal(200, lookup.Status);
        Assert.Equal("/api/v3/app/installations/12/access_tokens", Assert.Single(env.GitHub.UnrestrictedTokenRequests).Path);
    }

    [Fact]
    public async Task Concurrent_events_of_one_installation_share_one_token_request()
    {
        var (env, app) = await StartAsync();
        await using var _ = env;
        using var __ = app;
        env.GitHub.Install(app.App, 13, "octo/app-shared");
        var repo = env.GitHub.Repo("octo/app-shared");
        var branches = Enumerable.Range(0, 8).Select(i => $"b{i}").ToList();
        var sends = branches.Select(b => env.Service.SendAsync("push", Payloads.Installed(
            Payloads.Push(repo.FullName, "refs/heads/" + b, Payloads.Sha(1), repo.Commit(b, ".ci/workflow.yaml", SampleManifest.Workflow)), 13)));
        foreach (var response in await Task.WhenAll(sends))
        {
            Assert.Equal(202, (int)response.StatusCode);
        }

        foreach (var branch in branches)
        {
            await env.WaitForAsync(repo.FullName, "refs/heads/" + branch, s => IsolatedService.Finished(s) == 1, branch);
        }

        Assert.Single(env.GitHub.UnrestrictedTokenRequests);
        Assert.Equal(branches.Count, env.GitHub.ContentRequests.Count(r => r.Status == 200));

        // Each event's run has a read-only token of its own, never the shared one.
        Assert.Equal(branches.Count, env.GitHub.RestrictedTokenRequests.Count);
    }

    [Fact]
    public async Task A_token_github_no_longer_accepts_is_replaced_once_and_the_call_succeeds()
    {
        var (env, app) = await StartAsync();
        await using var _ = env;
        using var __ = app;
        env.GitHub.Install(app.App, 14, "octo/app-expired");
        var repo = env.GitHub.Repo("octo/app-expired");
        var first = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        await env.Service.SendAsync("push", Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), first), 14));
        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the first event");

        env.GitHub.ExpireTokens();
        var second = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        await env.Service.SendAsync("push", Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/main", first, second), 14));
        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 2, "the second event");

        Assert.Equal("applied", state["history"]![0]!["outcome"]!.GetValue<string>());
        Assert.Single(state["history"]![0]!["attempts"]!.AsArray());
        Assert.Equal(2, env.GitHub.UnrestrictedTokenRequests.Count);
        Assert.Equal([200, 401, 200], env.GitHub.ContentRequests.Select(r => r.Status));
    }

    [Fact]
    public async Task An_event_of_a_repository_the_app_is_not_installed_on_fails_with_that_reason()
    {
        var (env, app) = await StartAsync();
        await using var _ = env;
        using var __ = app;
        var repo = env.GitHub.Repo("octo/app-missing");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);

        await env.Service.SendAsync("push", Payloads.Uninstalled(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after)));
        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the event");

        var entry = state["history"]![0]!;
        Assert.Equal("failed", entry["outcome"]!.GetValue<string>());
        Assert.Equal("the GitHub App is not installed on octo/app-missing", entry["error"]!.GetValue<string>());
        Assert.Empty(env.GitHub.ContentRequests);
    }

    [Fact]
    public async Task An_installation_token_reaches_only_its_installations_repositories()
    {
        var (env, app) = await StartAsync();
        await using var _ = env;
        using var __ = app;
        env.GitHub.Install(app.App, 15, "octo/app-mine");
        var other = env.GitHub.Repo("octo/app-other");
        var after = other.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);

        // The payload claims installation 15, which does not cover this repository: GitHub hides it (404).
        await env.Service.SendAsync("push", Payloads.Installed(Payloads.Push(other.FullName, "refs/heads/main", Payloads.Sha(1), after), 15));
        var state = await env.WaitForAsync(other.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the event");

        Assert.Equal("failed", state["history"]![0]!["outcome"]!.GetValue<string>());
        Assert.Equal(404, Assert.Single(env.GitHub.ContentRequests).Status);
        Assert.Empty(env.Kubernetes.Creations);
    }
}

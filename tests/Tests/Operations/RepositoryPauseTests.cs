using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CiTrigger.Tests.EndToEnd;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Operations;

public class RepositoryPauseTests
{
    [Fact]
    public async Task Pausing_a_repository_holds_its_known_and_its_new_refs_until_resumed()
    {
        await using var env = await IsolatedService.StartAsync();
        var repo = env.GitHub.Repo("octo/paused-repo");
        var known = repo.Commit("known", ".ci/workflow.yaml", SampleManifest.Workflow);
        var later = repo.Commit("known", ".ci/workflow.yaml", SampleManifest.Workflow);
        var fresh = repo.Commit("fresh", ".ci/workflow.yaml", SampleManifest.Workflow);
        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/known", Payloads.Sha(1), known));
        await env.WaitForAsync(repo.FullName, "refs/heads/known", s => IsolatedService.Finished(s) == 1, "the first event");
        await Eventually.Until(async () => (await env.Service.Client.GetFromJsonAsync<JsonObject>($"/admin/repos/{repo.FullName}"))!["refs"]!.AsArray().Count == 1 ? "listed" : null,
            TimeSpan.FromSeconds(10), "the known ref in the catalog");

        using var paused = await env.Service.Client.PostAsync($"/admin/repos/{repo.FullName}/pause", null);
        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/known", known, later));
        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/fresh", Payloads.ZeroSha, fresh));
        var knownWhilePaused = await env.WaitForAsync(repo.FullName, "refs/heads/known", s => IsolatedService.Queued(s) == 1, "the queued event");
        var freshWhilePaused = await env.WaitForAsync(repo.FullName, "refs/heads/fresh", s => IsolatedService.Queued(s) == 1, "the new ref's event");
        var repository = (await env.Service.Client.GetFromJsonAsync<JsonObject>($"/admin/repos/{repo.FullName}"))!;
        var creationsWhilePaused = env.Kubernetes.Creations.Count;

        using var resumed = await env.Service.Client.PostAsync($"/admin/repos/{repo.FullName}/resume", null);
        await env.WaitForAsync(repo.FullName, "refs/heads/known", s => IsolatedService.Finished(s) == 2, "the known ref after resuming");
        await env.WaitForAsync(repo.FullName, "refs/heads/fresh", s => IsolatedService.Finished(s) == 1, "the new ref after resuming");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (paused.StatusCode, resumed.StatusCode));
        Assert.True(repository["paused"]!.GetValue<bool>());
        Assert.True(knownWhilePaused["repositoryPaused"]!.GetValue<bool>());
        Assert.True(freshWhilePaused["repositoryPaused"]!.GetValue<bool>());
        Assert.Equal(1, creationsWhilePaused);
        Assert.Equal(3, env.Kubernetes.Creations.Count);
    }
}

using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.EndToEnd;

/// <summary>Transient failures of GitHub and Kubernetes: retried, recorded, and never applied twice.</summary>
public class FaultTests
{
    [Fact]
    public async Task A_cluster_that_refuses_connections_is_retried_until_it_is_back()
    {
        await using var env = await IsolatedService.StartAsync();
        var repo = env.GitHub.Repo("octo/outage");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        await env.Kubernetes.RefuseConnectionsAsync();

        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after));
        var retrying = await env.WaitForAsync(repo.FullName, "refs/heads/main",
            s => IsolatedService.Queued(s) == 1 && s["queue"]![0]!["attempts"]!.AsArray().Count >= 2, "two failed attempts");
        await env.Kubernetes.ResumeAsync();
        var done = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the event to be applied");

        Assert.Contains("could not be reached", retrying["queue"]![0]!["attempts"]![0]!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(retrying["queue"]![0]!["attempts"]![0]!["transient"]!.GetValue<bool>());
        Assert.Equal("applied", done["history"]![0]!["outcome"]!.GetValue<string>());
        Assert.Single(env.Kubernetes.Applied);
    }

    [Fact]
    public async Task Raw_content_of_another_media_type_is_an_error_not_an_empty_manifest()
    {
        await using var env = await IsolatedService.StartAsync();
        var repo = env.GitHub.Repo("octo/proxy");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        env.GitHub.RawContentTypeOverride = "text/plain";

        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after));
        var failing = await env.WaitForAsync(repo.FullName, "refs/heads/main",
            s => IsolatedService.Queued(s) == 1 && s["queue"]![0]!["attempts"]!.AsArray().Count >= 1, "a failed attempt");
        env.GitHub.RawContentTypeOverride = null;
        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the event to be applied");

        Assert.Contains("without raw content", failing["queue"]![0]!["attempts"]![0]!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Single(env.Kubernetes.Applied);
    }

    [Fact]
    public async Task A_transient_failure_gives_up_after_the_configured_attempts_and_the_queue_moves_on()
    {
        await using var env = await IsolatedService.StartAsync(new Dictionary<string, string> { ["Handler:MaxAttempts"] = "3" });
        var repo = env.GitHub.Repo("octo/give-up");
        var first = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var second = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        await env.Kubernetes.RefuseConnectionsAsync();

        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), first));
        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the first event to fail finally");
        await env.Kubernetes.ResumeAsync();
        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", first, second));
        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 2, "the second event");

        var failed = state["history"]![1]!;
        Assert.Equal("failed", failed["outcome"]!.GetValue<string>());
        Assert.Equal(3, failed["attempts"]!.AsArray().Count);
        Assert.StartsWith("gave up after 3 attempts", failed["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("applied", state["history"]![0]!["outcome"]!.GetValue<string>());
    }

    [Fact]
    public async Task Dry_run_records_what_would_be_applied_and_sends_nothing_to_a_cluster()
    {
        await using var env = await IsolatedService.StartAsync(dryRun: true);
        var repo = env.GitHub.Repo("octo/dry");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);

        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after));
        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the event");

        var applied = Assert.Single(state["history"]![0]!["objects"]!.AsArray())!;
        Assert.Equal(("Workflow", "ci", "ci-*", "dry-run"), (applied["kind"]!.GetValue<string>(), applied["namespace"]!.GetValue<string>(),
            applied["name"]!.GetValue<string>(), applied["action"]!.GetValue<string>()));
        Assert.Empty(env.Kubernetes.Requests);
    }

    [Fact]
    public void Without_any_cluster_configuration_the_service_falls_back_to_dry_run()
    {
        var emptyHome = Directory.CreateTempSubdirectory("home-").FullName;

        var config = Grains.Kubernetes.KubernetesConnection.TryLoad(null, emptyHome, out var source);

        Assert.Null(config);
        Assert.Contains("no kubeconfig", source, StringComparison.Ordinal);
    }
}

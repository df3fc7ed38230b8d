using Xunit;
using static CiTrigger.Tests.Processes.FollowingEnv;

namespace CiTrigger.Tests.Processes;

/// <summary>
/// A check turns green only for a run that really ran for its event: end to end with the service's own
/// follower against the fake cluster, the test playing the Argo controller.
/// </summary>
public class TrueResultsTests
{
    private const string NamedWorkflow = """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata:
          name: build-main
        spec:
          entrypoint: build
        """;

    private const string Refusal = "document 0 (Workflow build-main) is a run with a fixed metadata.name: every event must start a new run, so give it metadata.generateName (for example 'build-main-') instead";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_workflow_with_a_fixed_name_is_refused_so_no_push_inherits_an_earlier_runs_result(bool cancelSuperseded)
    {
        await using var env = await FollowingEnv.StartAsync($"octo/named-{cancelSuperseded.ToString().ToLowerInvariant()}");
        await using var service = await env.ServiceAsync(new Dictionary<string, string> { ["Handler:CancelSuperseded"] = cancelSuperseded ? "true" : "false" });

        var first = await PushAsync(service.Client, env.Repo, 1, NamedWorkflow);
        var second = await PushAsync(service.Client, env.Repo, 2, NamedWorkflow);

        foreach (var delivery in new[] { first, second })
        {
            var check = await CheckAsync(env.GitHub, delivery, "completed");
            Assert.Equal("failure", check.Conclusion);
            Assert.Contains(Refusal, check.Output!["summary"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.DoesNotContain(env.Kubernetes.Objects, o => o["kind"]!.GetValue<string>() == "Workflow");
    }

    [Fact]
    public async Task A_run_in_an_allowed_namespace_is_followed_to_its_own_result()
    {
        await using var env = await FollowingEnv.StartAsync("octo/elsewhere");
        await using var service = await env.ServiceAsync(new Dictionary<string, string> { ["Handler:AllowedNamespaces"] = "other" });
        var manifest = SampleManifestIn("other");

        var succeeding = await PushAsync(service.Client, env.Repo, 1, manifest);
        await CheckAsync(env.GitHub, succeeding, "in_progress");
        var created = Assert.Single(env.Kubernetes.CreationsOf("Workflow"));
        Assert.Equal("other", created["metadata"]!["namespace"]!.GetValue<string>());
        WriteStatus(env.Kubernetes, NameOf(created), "Succeeded", ns: "other");
        Assert.Equal("success", (await CheckAsync(env.GitHub, succeeding, "completed")).Conclusion);

        var failing = await PushAsync(service.Client, env.Repo, 2, manifest);
        await CheckAsync(env.GitHub, failing, "in_progress");
        WriteStatus(env.Kubernetes, NameOf(env.Kubernetes.CreationsOf("Workflow")[1]), "Failed", "step test failed", ns: "other");
        var failed = await CheckAsync(env.GitHub, failing, "completed");
        Assert.Equal("failure", failed.Conclusion);
        Assert.EndsWith("failed: step test failed", failed.Output!["summary"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static string SampleManifestIn(string ns) =>
        Fakes.SampleManifest.Workflow.Replace("  generateName: ci-\n", $"  generateName: ci-\n  namespace: {ns}\n", StringComparison.Ordinal);
}

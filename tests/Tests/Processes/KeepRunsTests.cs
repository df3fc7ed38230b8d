using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Operations;
using CiTrigger.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using static CiTrigger.Tests.Processes.FollowingEnv;

namespace CiTrigger.Tests.Processes;

/// <summary>
/// keepRuns end to end: the service follows its Workflows in the fake Kubernetes API (the test plays Argo by writing
/// their status), and once a run of a repository that keeps 2 finishes, the ref's older finished Workflows are deleted
/// by the service's own pruner: never a running one, another ref's, or another repository's, and each deletion counted.
/// </summary>
public class KeepRunsTests
{
    private const string Repository = "octo/keep";

    /// <summary>The Repository resource of <see cref="Repository"/>, keeping <paramref name="keepRuns"/>; other repositories have none.</summary>
    private sealed class KeepingSettings(int keepRuns) : IRepositorySettings
    {
        public bool Synced => true;

        public IReadOnlyList<RepositoryResource> All => [];

        public RepositorySettings? Find(string repository) =>
            repository == Repository ? new RepositorySettings(repository, "ci/keep", KeepRuns: keepRuns) : null;
    }

    /// <summary>Commits the sample Workflow on <paramref name="branch"/> and sends its push; returns the delivery.</summary>
    private static async Task<string> PushAsync(TriggerHost service, FakeGitHubApi.Repository repo, string branch, int n)
    {
        var after = repo.Commit(branch, ".ci/workflow.yaml", SampleManifest.Workflow + $"\n# {branch} {n}\n");
        var delivery = Guid.NewGuid().ToString();
        var body = Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/" + branch, Payloads.Sha(n), after), Installation);
        using var answer = await service.Client.SendAsync(TriggerHost.Webhook("push", Encoding.UTF8.GetBytes(body), "application/json", delivery));
        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        return delivery;
    }

    /// <summary>The name of the Workflow the service created for <paramref name="delivery"/>, once its check is in progress.</summary>
    private static async Task<string> RunningAsync(FollowingEnv env, string delivery)
    {
        await CheckAsync(env.GitHub, delivery, "in_progress");
        return NameOf(env.Kubernetes.CreationsOf("Workflow").Single(c => c["metadata"]!["annotations"]!["k8s-webhook-handler.io/delivery"]!.GetValue<string>() == delivery));
    }

    /// <summary>Pushes, lets the Workflow run and succeed (as Argo would), and waits for the check to complete; returns its name.</summary>
    private static async Task<string> FinishedRunAsync(FollowingEnv env, TriggerHost service, string branch, int n)
    {
        ((FakeTimeProvider)env.Kubernetes.Clock).Advance(TimeSpan.FromMinutes(1));
        var delivery = await PushAsync(service, env.Repo, branch, n);
        var name = await RunningAsync(env, delivery);
        WriteStatus(env.Kubernetes, name, "Succeeded");
        Assert.Equal("success", (await CheckAsync(env.GitHub, delivery, "completed")).Conclusion);
        return name;
    }

    /// <summary>A finished Workflow of another repository, as its own service would have applied it, with <paramref name="refHash"/>.</summary>
    private static JsonObject Theirs(string name, string refHash) => new()
    {
        ["apiVersion"] = "argoproj.io/v1alpha1",
        ["kind"] = "Workflow",
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = "ci",
            ["creationTimestamp"] = "2026-12-07T09:00:00Z",
            ["labels"] = new JsonObject { ["k8s-webhook-handler.io/delivery"] = "d-" + name, ["k8s-webhook-handler.io/ref-hash"] = refHash },
            ["annotations"] = new JsonObject
            {
                ["k8s-webhook-handler.io/delivery"] = "d-" + name,
                ["k8s-webhook-handler.io/repo_name"] = "octo/other",
                ["k8s-webhook-handler.io/ref"] = "refs/heads/main",
            },
        },
        ["spec"] = new JsonObject { ["entrypoint"] = "build" },
        ["status"] = new JsonObject { ["phase"] = "Succeeded" },
    };

    [Fact]
    public async Task After_the_fourth_run_of_a_ref_finishes_only_its_newest_two_finished_workflows_remain_beside_its_running_one_and_the_others()
    {
        await using var env = await FollowingEnv.StartAsync(Repository);
        env.Kubernetes.Clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero));
        // Another repository's finished Workflows, older than all: one with its own ref's label, one with ours (a hash collision).
        env.Kubernetes.Seed(Theirs("theirs-own", ManifestAnnotator.RefLabelValue(RefKey.For(ForgeNames.GitHub, "octo/other", "refs/heads/main"))));
        env.Kubernetes.Seed(Theirs("theirs-colliding", ManifestAnnotator.RefLabelValue(RefKey.For(ForgeNames.GitHub, Repository, "refs/heads/main"))));
        await using var service = await env.ServiceAsync(configure: builder => builder.Services.AddSingleton<IRepositorySettings>(new KeepingSettings(2)));

        // Another ref's two finished runs, older than main's: they count for that ref alone.
        var feature = new[] { await FinishedRunAsync(env, service, "feature", 1), await FinishedRunAsync(env, service, "feature", 2) };
        ((FakeTimeProvider)env.Kubernetes.Clock).Advance(TimeSpan.FromMinutes(1));
        var running = await RunningAsync(env, await PushAsync(service, env.Repo, "main", 1));
        var main = new List<string>();
        for (var n = 2; n <= 5; n++)
        {
            main.Add(await FinishedRunAsync(env, service, "main", n));
        }

        var workflows = () => env.Kubernetes.Objects.Where(o => o["kind"]!.GetValue<string>() == "Workflow").Select(NameOf).Order(StringComparer.Ordinal).ToList();
        await Eventually.Until(() => !workflows().Contains(main[0]) && !workflows().Contains(main[1]), TimeSpan.FromSeconds(20), "main's two oldest finished runs deleted");
        string[] remaining = ["theirs-own", "theirs-colliding", running, main[2], main[3], .. feature];
        Assert.Equal(remaining.Order(StringComparer.Ordinal), workflows());
        var deletes = env.Kubernetes.Requests.Where(r => r.Method == "DELETE" && r.Path.Contains("/workflows/", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, deletes.Count);
        Assert.All(deletes, d => Assert.Equal(("Background", 200), (d.Json["propagationPolicy"]!.GetValue<string>(), d.Status)));
        Assert.All(deletes, d => Assert.NotNull(d.Json["preconditions"]!["resourceVersion"]));

        var scrape = await Eventually.Until(async () => await service.Client.GetStringAsync("/metrics") is var text
            && PrometheusText.Sample(text, "citrigger_runs_pruned_total", "kind=\"Workflow\"") == 2 ? text : null, TimeSpan.FromSeconds(20), "the deletions counted");
        Assert.Equal(2, PrometheusText.Sample(scrape, "citrigger_runs_pruned_total"));
        Assert.Contains("# HELP citrigger_runs_pruned_total ", scrape, StringComparison.Ordinal);
        await MetricsLintTests.AssertPassesPromtoolAsync(scrape);
    }
}

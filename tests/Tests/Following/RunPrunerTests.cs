using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Telemetry;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace CiTrigger.Tests.Following;

/// <summary>
/// keepRuns' pruner against the strict fake API server: what it lists, how it deletes (in the background, with
/// preconditions, in the body), and what it does when an object changed or went since the list, or a deletion fails.
/// </summary>
public sealed class RunPrunerTests
{
    private static readonly string Key = HookEvents.Key;

    private static readonly RunPrune KeepTwo = new(Key, null, ["ci"], 2, []);

    /// <summary>A run object of <see cref="HookEvents"/>' ref as the service applies it, created at 10:<paramref name="minute"/>.</summary>
    private static JsonObject Run(string apiVersion, string kind, string name, int minute, JsonObject? status) => new()
    {
        ["apiVersion"] = apiVersion,
        ["kind"] = kind,
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = "ci",
            ["creationTimestamp"] = $"2026-12-07T10:{minute:00}:00Z",
            ["labels"] = new JsonObject
            {
                ["k8s-webhook-handler.io/delivery"] = "d-" + name,
                ["k8s-webhook-handler.io/ref-hash"] = ManifestAnnotator.RefLabelValue(Key),
            },
            ["annotations"] = new JsonObject
            {
                ["k8s-webhook-handler.io/delivery"] = "d-" + name,
                ["k8s-webhook-handler.io/repo_name"] = HookEvents.Repository,
                ["k8s-webhook-handler.io/ref"] = HookEvents.Ref,
            },
        },
        ["spec"] = new JsonObject { ["entrypoint"] = "main" },
        ["status"] = status,
    };

    private static JsonObject Workflow(string name, int minute, string phase = "Succeeded") =>
        Run("argoproj.io/v1alpha1", "Workflow", name, minute, new JsonObject { ["phase"] = phase });

    /// <summary>Three finished Workflows and a running one, oldest first: a prune keeping 2 deletes b, then a.</summary>
    private static void SeedRuns(FakeKubernetesApi fake)
    {
        fake.Seed(Workflow("a", 0));
        fake.Seed(Workflow("b", 1, "Failed"));
        fake.Seed(Workflow("running", 2, "Running"));
        fake.Seed(Workflow("c", 3));
        fake.Seed(Workflow("d", 4));
    }

    private static string[] Names(FakeKubernetesApi fake) => [.. fake.Objects.Select(o => o["metadata"]!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal)];

    /// <summary>A <see cref="KubernetesRunPruner"/> built the way AddKubernetes builds it, and what it counted.</summary>
    private sealed class PrunerUnderTest : IDisposable
    {
        private readonly k8s.Kubernetes client;
        private readonly ServiceProvider meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        private readonly MeterListener listener = new();

        public PrunerUnderTest(FakeKubernetesApi fake)
        {
            client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = fake.BaseAddress.ToString(), AccessToken = FakeKubernetesApi.Token });
            var factory = meters.GetRequiredService<IMeterFactory>();
            Pruner = new KubernetesRunPruner(client, new ApiDiscovery(client, Options.Create(new KubernetesOptions()), TimeProvider.System),
                Options.Create(new ManifestOptions()), new TriggerMetrics(factory), new ListLogger<KubernetesRunPruner>());
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == factory && instrument.Name == "citrigger.runs.pruned")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
                Counted.Enqueue(((string)tags.ToArray().Single(t => t.Key == "kind").Value!, value)));
            listener.Start();
        }

        public KubernetesRunPruner Pruner { get; }

        public ConcurrentQueue<(string Kind, long Value)> Counted { get; } = new();

        public void Dispose()
        {
            listener.Dispose();
            meters.Dispose();
            client.Dispose();
        }
    }

    [Fact]
    public async Task A_refs_finished_runs_of_every_served_kind_beyond_those_kept_are_deleted_in_the_background_with_preconditions_and_counted()
    {
        await using var fake = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        fake.ServeTekton();
        fake.Seed(Run("batch/v1", "Job", "job-old", 0, JsonNode.Parse("""{"conditions":[{"type":"Failed","status":"True","reason":"BackoffLimitExceeded"}]}""")!.AsObject()));
        fake.Seed(Workflow("wf-old", 1));
        fake.Seed(Run("tekton.dev/v1", "PipelineRun", "pr-running", 2, JsonNode.Parse("""{"conditions":[{"type":"Succeeded","status":"Unknown"}]}""")!.AsObject()));
        fake.Seed(Run("tekton.dev/v1", "TaskRun", "tr-new", 3, JsonNode.Parse("""{"conditions":[{"type":"Succeeded","status":"True"}]}""")!.AsObject()));
        fake.Seed(Workflow("wf-new", 4));
        using var pruning = new PrunerUnderTest(fake);

        var deleted = await pruning.Pruner.PruneAsync(KeepTwo, CancellationToken.None);

        Assert.Equal([("Workflow", "wf-old"), ("Job", "job-old")], deleted.Select(d => (d.Kind, d.Name)));
        Assert.Equal(["pr-running", "tr-new", "wf-new"], Names(fake));
        Assert.Equal([("Workflow", 1L), ("Job", 1L)], pruning.Counted);
        var lists = fake.Requests.Where(r => r.Method == "GET" && r.Query.Contains("labelSelector", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, lists.Count);
        Assert.All(lists, l => Assert.Equal(RunPruning.Selector(Key, null), System.Web.HttpUtility.ParseQueryString(l.Query)["labelSelector"]));
        var deletes = fake.Requests.Where(r => r.Method == "DELETE").ToList();
        Assert.Equal(["/apis/argoproj.io/v1alpha1/namespaces/ci/workflows/wf-old", "/apis/batch/v1/namespaces/ci/jobs/job-old"], deletes.Select(d => d.Path));
        Assert.All(deletes, d => Assert.Equal(("Background", true, true, 200),
            (d.Json["propagationPolicy"]!.GetValue<string>(), d.Json["preconditions"]!["uid"] is not null, d.Json["preconditions"]!["resourceVersion"] is not null, d.Status)));
    }

    [Fact]
    public async Task An_object_changed_since_the_list_is_left_one_gone_already_is_not_counted_and_neither_fails_the_prune()
    {
        await using var fake = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        SeedRuns(fake);
        using var someone = Client(fake);
        fake.Hold = async r =>
        {
            // Before the pruner's deletes are served: b is retried (running again), a deleted by someone else.
            if (r.Method == "DELETE" && r.Body.Length > 0 && r.Path.EndsWith("/b", StringComparison.Ordinal))
            {
                fake.WriteStatus("argoproj.io/v1alpha1", "Workflow", "ci", "b", new JsonObject { ["phase"] = "Running" });
            }
            else if (r.Method == "DELETE" && r.Body.Length > 0 && r.Path.EndsWith("/a", StringComparison.Ordinal))
            {
                using var gone = await someone.DeleteAsync(new Uri("apis/argoproj.io/v1alpha1/namespaces/ci/workflows/a", UriKind.Relative));
            }
        };
        using var pruning = new PrunerUnderTest(fake);

        var deleted = await pruning.Pruner.PruneAsync(KeepTwo, CancellationToken.None);

        Assert.Empty(deleted);
        Assert.Empty(pruning.Counted);
        Assert.Equal(["b", "c", "d", "running"], Names(fake));
        Assert.Equal([409, 404], fake.Requests.Where(r => r.Method == "DELETE" && r.Body.Length > 0).Select(r => r.Status));
    }

    [Fact]
    public async Task A_deletion_that_fails_fails_the_prune_once_the_others_were_deleted()
    {
        await using var fake = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        SeedRuns(fake);
        // The first delete (b's, the newer) is answered with a server failure, the next (a's) as usual.
        fake.Hold = r =>
        {
            if (r.Method == "DELETE")
            {
                fake.FailureRate = r.Path.EndsWith("/b", StringComparison.Ordinal) ? 1 : 0;
            }

            return Task.CompletedTask;
        };
        using var pruning = new PrunerUnderTest(fake);

        var failure = await Assert.ThrowsAsync<TransientException>(() => pruning.Pruner.PruneAsync(KeepTwo, CancellationToken.None));

        Assert.StartsWith("deleting Workflow ci/b: the API server answered 5", failure.Message, StringComparison.Ordinal);
        Assert.Equal(["b", "c", "d", "running"], Names(fake));
        Assert.Equal([("Workflow", 1L)], pruning.Counted);
    }

    /// <summary>Someone else with the same rights, such as another silo.</summary>
    private static HttpClient Client(FakeKubernetesApi fake)
    {
        var client = new HttpClient { BaseAddress = fake.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", FakeKubernetesApi.Token);
        return client;
    }
}

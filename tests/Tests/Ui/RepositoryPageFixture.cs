using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Processes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Ui;

/// <summary>
/// One running service that reads Repository resources from the fake cluster: <see cref="Limited"/> with a
/// <c>concurrencyLimit</c> of 1, one run holding the slot (the fake plays no Argo here, so it runs until the end) and
/// two pushes of other branches waiting for it in order; a second, younger resource claiming the same repository
/// (refused as a duplicate); and a resource whose spec the service refuses with a message quoting markup. Plus one
/// headless Chromium.
/// </summary>
public sealed class RepositoryPageFixture : IAsyncLifetime
{
    public const string Limited = "octo/ui-limited";
    public const string Refused = "octo/ui-refused";

    /// <summary>A parameter name that closes an attribute and opens a script; the service quotes it in its refusal.</summary>
    public const string HostileName = "\"><script>window.pwned=4</script>";

    /// <summary>A parameter value of the usable resource that is markup; whoever writes Repository objects chooses it.</summary>
    public const string ScriptValue = "<script>window.pwned=3</script>";

    private FollowingEnv env = null!;

    public TriggerHost Service { get; private set; } = null!;

    public FakeKubernetesApi Kubernetes => env.Kubernetes;

    public Browser Browser { get; private set; } = null!;

    /// <summary>The push of main, whose run holds the only slot.</summary>
    public string Running { get; private set; } = "";

    /// <summary>The pushes of branches a and b, waiting for the slot in this order.</summary>
    public IReadOnlyList<string> Waiting { get; private set; } = [];

    public Uri Address(string path) => new(Service.Client.BaseAddress!, path);

    public async ValueTask InitializeAsync()
    {
        env = await FollowingEnv.StartAsync(Limited);
        env.Kubernetes.ServeRepositories();
        env.Kubernetes.PutRepository("limited", new JsonObject
        {
            ["repository"] = Limited,
            ["concurrencyLimit"] = 1,
            ["trustedAssociations"] = new JsonArray("OWNER"),
            ["params"] = new JsonObject { ["greeting"] = ScriptValue },
        });
        env.Kubernetes.PutRepository("limited-copy", new JsonObject { ["repository"] = Limited, ["concurrencyLimit"] = 5 });
        env.Kubernetes.PutRepository("refused", new JsonObject { ["repository"] = Refused, ["params"] = new JsonObject { [HostileName] = "x" } });
        Service = await env.ServiceAsync();
        await Eventually.UntilAsync(async () => (await RepositoriesAsync())["repositories"]!.AsArray().Count == 3,
            TimeSpan.FromSeconds(20), "the three Repository objects read");

        Running = await PushAsync("main", 1);
        await Eventually.Until(() => env.Kubernetes.CreationsOf("Workflow").Any(c => c["metadata"]!["annotations"]!["k8s-webhook-handler.io/delivery"]!.GetValue<string>() == Running),
            TimeSpan.FromSeconds(30), "the run of main created");
        var a = await PushAsync("a", 2);
        await WaitingAsync([a]);
        var b = await PushAsync("b", 3);
        Waiting = [a, b];
        await WaitingAsync(Waiting);
        Browser = Browser.Start();
    }

    public async ValueTask DisposeAsync()
    {
        Browser?.Dispose();
        if (Service is not null)
        {
            await Service.DisposeAsync();
        }

        await env.DisposeAsync();
    }

    private async Task<JsonObject> RepositoriesAsync() => (await Service.Client.GetFromJsonAsync<JsonObject>("/admin/repositories"))!;

    /// <summary>Waits until main's run holds the slot and exactly <paramref name="deliveries"/> wait, in this order.</summary>
    private Task WaitingAsync(IReadOnlyList<string> deliveries) =>
        Eventually.UntilAsync(async () =>
        {
            var runs = (await RepositoriesAsync())["repositories"]!.AsArray().Single(r => r!["resource"]!.GetValue<string>() == "ci/limited")!["runs"];
            return runs is not null
                && runs["running"]!.AsArray().Select(r => r!["delivery"]!.GetValue<string>()).SequenceEqual([Running])
                && runs["waiting"]!.AsArray().Select(r => r!["delivery"]!.GetValue<string>()).SequenceEqual(deliveries);
        }, TimeSpan.FromSeconds(30), $"{deliveries.Count} deliveries waiting for the slot of main's run");

    private async Task<string> PushAsync(string branch, int n)
    {
        var after = env.Repo.Commit(branch, ".ci/workflow.yaml", SampleManifest.Workflow + $"\n# {branch} {n}\n");
        var delivery = Guid.NewGuid().ToString();
        var body = Payloads.Installed(Payloads.Push(Limited, "refs/heads/" + branch, Payloads.Sha(n), after), FollowingEnv.Installation);
        using var answer = await Service.Client.SendAsync(TriggerHost.Webhook("push", Encoding.UTF8.GetBytes(body), "application/json", delivery));
        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        return delivery;
    }
}

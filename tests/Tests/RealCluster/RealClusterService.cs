using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;

namespace CiTrigger.Tests.RealCluster;

/// <summary>
/// The real service in-process, applying to the real API server with the k8s/ service account's token
/// (or another kubeconfig), reading manifests from a fake GitHub of its own.
/// </summary>
public sealed class RealClusterService : IAsyncDisposable
{
    private RealClusterService(RealCluster cluster, FakeGitHubApi github, TriggerHost service)
    {
        Cluster = cluster;
        GitHub = github;
        Service = service;
    }

    public RealCluster Cluster { get; }

    public FakeGitHubApi GitHub { get; }

    public TriggerHost Service { get; }

    /// <param name="cluster">The API server.</param>
    /// <param name="kubeConfig">
    /// Builds the service's kubeconfig in its data directory; by default the service account's token.
    /// </param>
    /// <param name="settings">Further configuration.</param>
    public static Task<RealClusterService> StartAsync(RealCluster cluster, Func<string, string>? kubeConfig = null, IDictionary<string, string>? settings = null) =>
        StartWithAsync(cluster, _ => settings ?? new Dictionary<string, string>(), kubeConfig);

    /// <summary>The service as a GitHub App registered with its fake GitHub, which gives the App's identity back.</summary>
    public static async Task<(RealClusterService Service, AppIdentity App)> StartAppAsync(RealCluster cluster, IDictionary<string, string>? settings = null)
    {
        AppIdentity? app = null;
        var service = await StartWithAsync(cluster, github => (app = AppIdentity.Register(github)).Settings(settings), kubeConfig: null);
        return (service, app!);
    }

    private static async Task<RealClusterService> StartWithAsync(RealCluster cluster, Func<FakeGitHubApi, IDictionary<string, string>> settings, Func<string, string>? kubeConfig)
    {
        var github = await FakeGitHubApi.StartAsync();
        try
        {
            var dataPath = Directory.CreateTempSubdirectory("citrigger-real-").FullName;
            var values = new Dictionary<string, string>(settings(github), StringComparer.OrdinalIgnoreCase)
            {
                ["Kubernetes:DryRun"] = "false",
                ["Kubernetes:KubeConfig"] = (kubeConfig ?? (d => cluster.WriteKubeConfig(d, cluster.ServiceAccountToken)))(dataPath),
            };
            var service = await TriggerHost.StartAsync(github, kubernetes: null, values, dataPath: dataPath);
            return new RealClusterService(cluster, github, service);
        }
        catch
        {
            await github.DisposeAsync();
            throw;
        }
    }

    /// <summary>A repository of the test's own.</summary>
    public FakeGitHubApi.Repository NewRepo() => GitHub.Repo($"octo/{Guid.NewGuid():N}"[..30]);

    /// <summary>Pushes <paramref name="manifest"/> as a new commit on main and returns the delivery id.</summary>
    public async Task<string> PushAsync(FakeGitHubApi.Repository repo, string manifest, string? delivery = null)
    {
        var before = repo.Branches.TryGetValue("main", out var head) ? head : Payloads.Sha(1);
        var after = repo.Commit("main", ".ci/workflow.yaml", manifest);
        delivery ??= Guid.NewGuid().ToString();
        using var response = await Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", before, after), delivery);
        return response.IsSuccessStatusCode ? delivery : throw new InvalidOperationException($"the push was answered {(int)response.StatusCode}");
    }

    /// <summary>Waits until main of <paramref name="repo"/> has finished <paramref name="count"/> events; returns its state.</summary>
    public Task<JsonObject> FinishedAsync(FakeGitHubApi.Repository repo, int count = 1) =>
        Eventually.Until(async () =>
        {
            using var response = await Service.Client.GetAsync($"/admin/repos/{repo.FullName}/refs/heads/main");
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            var state = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            return state["history"]!.AsArray().Count >= count && state["queue"]!.AsArray().Count == 0 ? state : null;
        }, TimeSpan.FromSeconds(30), $"{count} finished event(s) on {repo.FullName}");

    public async ValueTask DisposeAsync()
    {
        await Service.DisposeAsync();
        await GitHub.DisposeAsync();
    }
}

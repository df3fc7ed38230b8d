using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Microsoft.AspNetCore.Builder;

namespace CiTrigger.Tests.EndToEnd;

/// <summary>A service with fakes of its own, for tests that break the fakes or need other settings.</summary>
public sealed class IsolatedService : IAsyncDisposable
{
    private IsolatedService(FakeGitHubApi github, FakeKubernetesApi kubernetes, TriggerHost service)
    {
        GitHub = github;
        Kubernetes = kubernetes;
        Service = service;
    }

    public FakeGitHubApi GitHub { get; }

    public FakeKubernetesApi Kubernetes { get; }

    public TriggerHost Service { get; }

    public static Task<IsolatedService> StartAsync(IDictionary<string, string>? settings = null, bool dryRun = false, Action<WebApplicationBuilder>? configure = null) =>
        StartAsync(_ => settings ?? new Dictionary<string, string>(), dryRun, configure);

    /// <summary>Starts the fakes, then the service with settings that may depend on the fake GitHub (an App registered there).</summary>
    public static async Task<IsolatedService> StartAsync(Func<FakeGitHubApi, IDictionary<string, string>> settings, bool dryRun = false, Action<WebApplicationBuilder>? configure = null)
    {
        var github = await FakeGitHubApi.StartAsync();
        var kubernetes = await FakeKubernetesApi.StartAsync();
        var service = await TriggerHost.StartAsync(github, dryRun ? null : kubernetes, settings(github), configure);
        return new IsolatedService(github, kubernetes, service);
    }

    public async Task<JsonObject?> StateAsync(string repo, string gitRef)
    {
        using var response = await Service.Client.GetAsync($"/admin/repos/{repo}/{gitRef}");
        return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonObject>() : null;
    }

    /// <summary>Waits for the ref's state to satisfy <paramref name="condition"/>.</summary>
    public Task<JsonObject> WaitForAsync(string repo, string gitRef, Func<JsonObject, bool> condition, string what, int seconds = 20) =>
        Eventually.Until(async () => await StateAsync(repo, gitRef) is { } state && condition(state) ? state : null,
            TimeSpan.FromSeconds(seconds), what);

    public static int Finished(JsonObject state) => state["history"]!.AsArray().Count;

    public static int Queued(JsonObject state) => state["queue"]!.AsArray().Count;

    public async ValueTask DisposeAsync()
    {
        await Service.DisposeAsync();
        await Kubernetes.DisposeAsync();
        await GitHub.DisposeAsync();
    }
}

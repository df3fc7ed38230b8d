using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.EndToEnd;

/// <summary>
/// One running service against one fake GitHub and one fake Kubernetes API, shared by the end-to-end
/// tests of a collection. Tests keep out of each other's way by using repositories of their own.
/// </summary>
public sealed class ServiceFixture : IAsyncLifetime
{
    public FakeGitHubApi GitHub { get; private set; } = null!;

    public FakeKubernetesApi Kubernetes { get; private set; } = null!;

    public TriggerHost Service { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        GitHub = await FakeGitHubApi.StartAsync();
        Kubernetes = await FakeKubernetesApi.StartAsync();
        Service = await TriggerHost.StartAsync(GitHub, Kubernetes, new Dictionary<string, string>
        {
            ["Webhook:MaxPayloadBytes"] = "1048576",
            ["Handler:IgnoreRefs"] = "^refs/heads/ignored/",
            ["Handler:Events"] = "push,delete,check_run,check_suite,pull_request,issue_comment",

            // The pipeline tests apply check suites of other actions than the default's "rerequested".
            ["Handler:Actions"] = "pull_request:opened|synchronize|reopened|closed,check_run:rerequested,check_suite:requested|rerequested",
        });
    }

    public async ValueTask DisposeAsync()
    {
        await Service.DisposeAsync();
        await Kubernetes.DisposeAsync();
        await GitHub.DisposeAsync();
    }

    /// <summary>A repository of the test's own in the fake GitHub.</summary>
    public FakeGitHubApi.Repository NewRepo(string defaultBranch = "main") =>
        GitHub.Repo($"octo/{Guid.NewGuid():N}"[..30], defaultBranch);

    /// <summary>Waits until the ref has finished <paramref name="count"/> events and returns its state.</summary>
    public Task<JsonObject> Finished(string repo, string gitRef, int count = 1) =>
        Eventually.Until(async () =>
        {
            using var response = await Service.Client.GetAsync($"/admin/repos/{repo}/{gitRef}");
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            var state = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            return state["history"]!.AsArray().Count >= count && state["queue"]!.AsArray().Count == 0 ? state : null;
        }, TimeSpan.FromSeconds(20), $"{count} finished event(s) on {repo} {gitRef}");

    /// <summary>Requests the fake Kubernetes API answered for one repository's objects.</summary>
    public IReadOnlyList<RecordedRequest> AppliedFor(string repo) =>
        [.. Kubernetes.Applied.Where(r => r.Body.Contains($"\"k8s-webhook-handler.io/repo_name\":\"{repo}\"", StringComparison.Ordinal))];
}

[CollectionDefinition(Name)]
public sealed class SharedService : ICollectionFixture<ServiceFixture>
{
    public const string Name = "service";
}

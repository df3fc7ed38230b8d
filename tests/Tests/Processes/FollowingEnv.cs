using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Xunit;

namespace CiTrigger.Tests.Processes;

/// <summary>
/// For run following end to end: the fakes, an App installed on one repository, and a directory for a
/// service; disposed after the service that a test starts from it (a test's <c>await using</c> of the
/// service comes later). The test plays the run controllers by writing status through the fake.
/// </summary>
public sealed class FollowingEnv(FakeGitHubApi github, FakeKubernetesApi kubernetes, AppIdentity app, FakeGitHubApi.Repository repo) : IAsyncDisposable
{
    public const long Installation = 44;

    private readonly string directory = Directory.CreateTempSubdirectory("citrigger-follow-").FullName;

    public FakeGitHubApi GitHub => github;

    public FakeKubernetesApi Kubernetes => kubernetes;

    public FakeGitHubApi.Repository Repo => repo;

    public static async Task<FollowingEnv> StartAsync(string repository, bool runsSucceed = false)
    {
        var github = await FakeGitHubApi.StartAsync();
        var kubernetes = await FakeKubernetesApi.StartAsync(runsSucceed);
        var app = AppIdentity.Register(github);
        github.Install(app.App, Installation, repository);
        return new FollowingEnv(github, kubernetes, app, github.Repo(repository));
    }

    /// <summary>App mode with check runs, run following on, fast retries and recovery, plus <paramref name="more"/>.</summary>
    public static Dictionary<string, string> Settings(FakeGitHubApi github, FakeKubernetesApi kubernetes, AppIdentity app, string directory, params IEnumerable<KeyValuePair<string, string>>?[] more) =>
        ServiceSettings.Combine([app.Settings(new Dictionary<string, string>
        {
            ["Webhook:Secrets"] = TriggerHost.Secret,
            ["GitHub:BaseUrl"] = github.BaseAddress.ToString(),
            ["GitHub:ReportStatus"] = "true",
            ["GitHub:StatusContext"] = "ci/trigger",
            ["Kubernetes:KubeConfig"] = kubernetes.WriteKubeConfig(directory),
            ["Kubernetes:FollowRuns"] = "true",
            ["Logging:LogLevel:Default"] = "Warning",
        }), ServiceSettings.SingleFile, ServiceSettings.FastRetry, ServiceSettings.FastRecovery, .. more]);

    /// <summary>What <see cref="Settings"/> gives this environment, plus <paramref name="more"/>.</summary>
    public Dictionary<string, string> SettingsWith(params IEnumerable<KeyValuePair<string, string>>?[] more) => Settings(github, kubernetes, app, directory, more);

    /// <param name="more">Further settings.</param>
    /// <param name="configure">Doubles put in before the service is built (such as the repositories' settings).</param>
    public Task<TriggerHost> ServiceAsync(Dictionary<string, string>? more = null, Action<WebApplicationBuilder>? configure = null) =>
        TriggerHost.StartAsync(github, kubernetes, Settings(github, kubernetes, app, directory, more), configure);

    /// <summary>Commits <paramref name="manifest"/> (the sample Workflow by default) as push number <paramref name="n"/> and sends its webhook; returns the delivery.</summary>
    public static async Task<string> PushAsync(HttpClient client, FakeGitHubApi.Repository repo, int n, string? manifest = null)
    {
        var after = repo.Commit("main", ".ci/workflow.yaml", (manifest ?? SampleManifest.Workflow) + $"\n# {n}\n");
        var delivery = Guid.NewGuid().ToString();
        var body = Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(n), after), Installation);
        using var answer = await client.SendAsync(TriggerHost.Webhook("push", Encoding.UTF8.GetBytes(body), "application/json", delivery));
        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        return delivery;
    }

    public static Task<FakeGitHubApi.CheckRun> CheckAsync(FakeGitHubApi github, string delivery, string status, string diagnostics = "", int seconds = 30) =>
        Eventually.Until(() => Task.FromResult(github.CheckRuns.FirstOrDefault(r => r.ExternalId == delivery && r.Status == status)),
            TimeSpan.FromSeconds(seconds), $"the check of {delivery} {status}\n{diagnostics}");

    /// <summary>Plays the Argo controller: it writes a Workflow's status (through the status subresource the fixture CRD has).</summary>
    public static void WriteStatus(FakeKubernetesApi kubernetes, string name, string phase, string? message = null, string ns = "ci")
    {
        var status = new JsonObject { ["phase"] = phase };
        if (message is not null)
        {
            status["message"] = message;
        }

        kubernetes.WriteStatus("argoproj.io/v1alpha1", "Workflow", ns, name, status);
    }

    public static HttpClient Client(FakeKubernetesApi kubernetes)
    {
        var client = new HttpClient { BaseAddress = kubernetes.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", FakeKubernetesApi.Token);
        return client;
    }

    public static string NameOf(JsonObject created) => created["metadata"]!["name"]!.GetValue<string>();

    public async ValueTask DisposeAsync()
    {
        await kubernetes.DisposeAsync();
        await github.DisposeAsync();
        app.Dispose();
    }
}

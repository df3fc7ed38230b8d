using System.Text;
using CiTrigger.Silo;
using CiTrigger.Tests.Fakes;
using Microsoft.AspNetCore.Builder;

namespace CiTrigger.Tests.Support;

/// <summary>
/// The real service (silo, gateway, admin) started in-process on real Kestrel at a loopback port,
/// configured against the fake GitHub and Kubernetes APIs, with a data directory of its own.
/// </summary>
public sealed class TriggerHost : IAsyncDisposable
{
    public const string Secret = "It's a Secret to Everybody";

    private readonly WebApplication app;

    private TriggerHost(WebApplication app, string dataPath)
    {
        this.app = app;
        DataPath = dataPath;
        Client = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Client { get; }

    public string DataPath { get; }

    public IServiceProvider Services => app.Services;

    /// <summary>A setting of these tests only: "true" leaves <c>Handler:ManifestPath</c> unset, so the service runs in pipeline mode.</summary>
    public const string PipelineMode = SiloProcess.PipelineMode;

    public static async Task<TriggerHost> StartAsync(
        FakeGitHubApi github,
        FakeKubernetesApi? kubernetes,
        IDictionary<string, string>? settings = null,
        Action<WebApplicationBuilder>? configure = null,
        string? dataPath = null)
    {
        dataPath ??= Directory.CreateTempSubdirectory("citrigger-").FullName;
        var values = ServiceSettings.Combine(new Dictionary<string, string>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Webhook:Secrets"] = Secret,
            ["GitHub:BaseUrl"] = github.BaseAddress.ToString(),
            ["GitHub:Token"] = FakeGitHubApi.Token,
            ["Orleans:SiloPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:ClusterId"] = "test-" + Guid.NewGuid().ToString("N")[..8],
            ["Orleans:DataPath"] = dataPath,
            ["Handler:ReorderWindow"] = "00:00:01",
            ["Logging:LogLevel:Default"] = "Error",
            ["Logging:LogLevel:Orleans"] = "Error",
        }, ServiceSettings.SingleFile, ServiceSettings.FastRetry);
        if (kubernetes is null)
        {
            values["Kubernetes:DryRun"] = "true";
        }
        else
        {
            values["Kubernetes:KubeConfig"] = kubernetes.WriteKubeConfig(dataPath);

            // Most tests are about what is applied; the ones about runs' results turn following on.
            values["Kubernetes:FollowRuns"] = "false";
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            values[key] = value;
        }

        if (values.TryGetValue(PipelineMode, out var mode) && mode == "true")
        {
            // Pipeline tests: no Handler:ManifestPath at all, as users of pipelines configure it.
            values.Remove(PipelineMode);
            values.Remove("Handler:ManifestPath");
        }

        var app = TriggerApp.Create([.. values.Select(kv => $"--{kv.Key}={kv.Value}")], configure);
        await app.StartAsync();
        return new TriggerHost(app, dataPath);
    }

    /// <summary>Posts a webhook the way GitHub does: JSON body, event and delivery headers, SHA-256 signature.</summary>
    public Task<HttpResponseMessage> SendAsync(string eventType, string json, string? delivery = null, string secret = Secret) =>
        Client.SendAsync(Webhook(eventType, Encoding.UTF8.GetBytes(json), "application/json", delivery ?? Guid.NewGuid().ToString(), secret));

    public static HttpRequestMessage Webhook(string eventType, byte[] body, string contentType, string delivery, string? secret = Secret) =>
        GitHubWebhook.Request(eventType, body, contentType, delivery, secret);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

using System.Net.Http.Headers;
using System.Text;
using CiTrigger.Gateway.Webhooks;
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

    public static async Task<TriggerHost> StartAsync(
        FakeGitHubApi github,
        FakeKubernetesApi? kubernetes,
        IDictionary<string, string>? settings = null,
        Action<WebApplicationBuilder>? configure = null,
        string? dataPath = null)
    {
        dataPath ??= Directory.CreateTempSubdirectory("citrigger-").FullName;
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Webhook:Secrets"] = Secret,
            ["GitHub:BaseUrl"] = github.BaseAddress.ToString(),
            ["GitHub:Token"] = FakeGitHubApi.Token,
            ["Orleans:SiloPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:ClusterId"] = "test-" + Guid.NewGuid().ToString("N")[..8],
            ["Orleans:DataPath"] = dataPath,
            ["Handler:RetryBaseDelay"] = "00:00:00.050",
            ["Handler:RetryMaxDelay"] = "00:00:00.400",
            ["Handler:ReorderWindow"] = "00:00:01",
            ["Logging:LogLevel:Default"] = "Error",
            ["Logging:LogLevel:Orleans"] = "Error",
        };
        if (kubernetes is null)
        {
            values["Kubernetes:DryRun"] = "true";
        }
        else
        {
            values["Kubernetes:KubeConfig"] = kubernetes.WriteKubeConfig(dataPath);
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            values[key] = value;
        }

        var app = TriggerApp.Create([.. values.Select(kv => $"--{kv.Key}={kv.Value}")], configure);
        await app.StartAsync();
        return new TriggerHost(app, dataPath);
    }

    /// <summary>Posts a webhook the way GitHub does: JSON body, event and delivery headers, SHA-256 signature.</summary>
    public Task<HttpResponseMessage> SendAsync(string eventType, string json, string? delivery = null, string secret = Secret) =>
        Client.SendAsync(Webhook(eventType, Encoding.UTF8.GetBytes(json), "application/json", delivery ?? Guid.NewGuid().ToString(), secret));

    public static HttpRequestMessage Webhook(string eventType, byte[] body, string contentType, string delivery, string? secret = Secret)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/github") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.Add("X-GitHub-Event", eventType);
        request.Headers.Add("X-GitHub-Delivery", delivery);
        request.Headers.UserAgent.ParseAdd("GitHub-Hookshot/test");
        if (secret is not null)
        {
            request.Headers.Add(WebhookSignature.Header, WebhookSignature.Sign(body, Encoding.UTF8.GetBytes(secret)));
        }

        return request;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

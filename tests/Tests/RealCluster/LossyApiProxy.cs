using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CiTrigger.Tests.RealCluster;

/// <summary>
/// A loopback reverse proxy in front of the real API server that can lose the answer to a request the
/// server has carried out: the request is forwarded and completed, then the client's connection is
/// dropped instead of answered. This is the one fault a real server cannot be asked for.
/// </summary>
public sealed class LossyApiProxy : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly HttpClient upstream;
    private int lost;

    private LossyApiProxy(WebApplication app, HttpClient upstream)
    {
        this.app = app;
        this.upstream = upstream;
    }

    public Uri Url => new(app.Urls.First());

    /// <summary>Requests whose answers are lost while this returns true (checked before forwarding).</summary>
    public Func<HttpRequest, bool> LoseAnswer { get; set; } = _ => false;

    public int Lost => Volatile.Read(ref lost);

    public static async Task<LossyApiProxy> StartAsync(KubeApiServer server)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var proxy = new LossyApiProxy(app, server.HttpClient(token: null));
        app.Run(proxy.ForwardAsync);
        await app.StartAsync();
        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        upstream.Dispose();
    }

    private async Task ForwardAsync(HttpContext http)
    {
        var lose = LoseAnswer(http.Request);
        using var request = new HttpRequestMessage(new HttpMethod(http.Request.Method), http.Request.Path + http.Request.QueryString);
        if (http.Request.ContentLength > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(http.Request.Body);
            if (http.Request.ContentType is { } contentType)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }

        foreach (var header in new[] { "Authorization", "Accept" })
        {
            if (http.Request.Headers.TryGetValue(header, out var value))
            {
                request.Headers.TryAddWithoutValidation(header, value.ToArray());
            }
        }

        using var response = await upstream.SendAsync(request, http.RequestAborted);
        var body = await response.Content.ReadAsByteArrayAsync(http.RequestAborted);
        if (lose)
        {
            Interlocked.Increment(ref lost);
            http.Abort();
            return;
        }

        http.Response.StatusCode = (int)response.StatusCode;
        if (response.Content.Headers.ContentType is { } type)
        {
            http.Response.ContentType = type.ToString();
        }

        await http.Response.Body.WriteAsync(body, http.RequestAborted);
    }
}

using CiTrigger.Gateway.Admin;
using CiTrigger.Gateway.Webhooks;
using CiTrigger.Grains;
using CiTrigger.Grains.Events;
using CiTrigger.Grains.GitHub;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CiTrigger.Gateway;

public static class GatewayExtensions
{
    /// <summary>Tag of the health checks that decide <c>/readyz</c>; the composition root adds them.</summary>
    public const string ReadyTag = "ready";

    public static IServiceCollection AddGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<WebhookOptions>(WebhookOptions.Section, o => o.Validate())
            .PostConfigure(o => o.Secrets = string.IsNullOrWhiteSpace(o.Secrets) ? configuration["WEBHOOK_SECRET"] : o.Secrets);
        services.AddValidatedOptions<AdminOptions>(AdminOptions.Section, o => o.Validate());
        services.AddSingleton(sp => new EventFilter(sp.GetRequiredService<HandlerOptions>(),
            sp.GetRequiredService<IOptions<GitHubAppOptions>>().Value is { IsApp: true } app ? app.Id : null));
        services.AddSingleton<WebhookReceiver>();
        services.AddSingleton<AdminAccess>();
        services.AddHealthChecks();
        return services;
    }

    public static IEndpointRouteBuilder MapGateway(this IEndpointRouteBuilder app)
    {
        app.MapPost("/webhooks/github", (HttpContext http, WebhookReceiver receiver) => receiver.ReceiveAsync(http));
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) });
        app.MapAdmin();
        return app;
    }
}

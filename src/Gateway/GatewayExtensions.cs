using CiTrigger.Gateway.Admin;
using CiTrigger.Gateway.Events;
using CiTrigger.Gateway.Forges;
using CiTrigger.Gateway.Ui;
using CiTrigger.Gateway.Webhooks;
using CiTrigger.Grains.Abstractions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CiTrigger.Gateway;

public static class GatewayExtensions
{
    /// <summary>Tag of the health checks that decide <c>/readyz</c>; the composition root adds them.</summary>
    public const string ReadyTag = "ready";

    public static IServiceCollection AddGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton<IRepositorySettings>(NoRepositorySettings.Instance);
        services.AddValidatedOptions<WebhookOptions>(WebhookOptions.Section, o => o.Validate())
            .PostConfigure(o => o.Secrets = string.IsNullOrWhiteSpace(o.Secrets) ? configuration["WEBHOOK_SECRET"] : o.Secrets);
        services.AddValidatedOptions<AdminOptions>(AdminOptions.Section, o => o.Validate(runsInPod: !string.IsNullOrEmpty(configuration["KUBERNETES_SERVICE_HOST"])));
        services.AddValidatedOptions<FilterOptions>(FilterOptions.Section, o => o.Validate());
        services.AddSingleton(sp => new EventFilter(sp.GetRequiredService<IOptions<FilterOptions>>().Value));
        services.AddWebhookForges();
        services.AddSingleton<WebhookMetrics>();
        services.AddSingleton<UnverifiedBodyBudget>();
        services.AddSingleton<WebhookReruns>();
        services.AddSingleton<WebhookReceiver>();
        services.AddSingleton<FailedSignIns>();
        services.AddSingleton<AdminAccess>();
        services.ConfigureHttpJsonOptions(AdminResults.Configure);
        services.AddHealthChecks();
        services.AddUi();
        return services;
    }

    public static IEndpointRouteBuilder MapGateway(this IEndpointRouteBuilder app)
    {
        app.MapWebhookForges();
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) });
        app.MapAdmin();
        app.MapAdminLogin();
        app.MapUi();
        return app;
    }
}

using CiTrigger.Gateway.Admin;
using CiTrigger.Grains.GitHub;
using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Processing;
using CiTrigger.Grains.Telemetry;
using CiTrigger.Gateway;
using CiTrigger.Gateway.Events;
using CiTrigger.Silo.Hosting;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using Orleans.Dashboard;

namespace CiTrigger.Silo;

/// <summary>The service as one web application: silo, webhook gateway, admin API, health, metrics, dashboard.</summary>
public static class TriggerApp
{
    public const string DefaultUrl = "http://localhost:8080";

    /// <param name="args">Command line: configuration keys as <c>--Section:Key=value</c>, <c>--urls</c>.</param>
    /// <param name="configure">Last changes before the app is built; tests use it to put doubles in.</param>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);

        // Defaults under every other source, so appsettings, environment and command line still win.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = LoggingDefaults });
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && !builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.Services.AddRefProcessing();
        builder.Services.AddGitHub(builder.Configuration);
        builder.Services.AddLocalManifests(builder.Configuration);
        builder.Services.AddKubernetes(builder.Configuration);
        builder.Services.AddGateway(builder.Configuration);
        builder.Services.AddOptions<DeliveryRecoveryOptions>()
            .Configure<IOptions<FilterOptions>>((recovery, filter) => recovery.HandledEvents = filter.Value.EventSet);
        builder.Services.AddHealthChecks()
            .AddCheck<SiloActiveCheck>("silo", tags: [GatewayExtensions.ReadyTag])
            .AddCheck<StoreReachableCheck>("store", tags: [GatewayExtensions.ReadyTag]);
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(TriggerMetrics.MeterName, "Microsoft.Orleans")
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            .AddPrometheusExporter());
        builder.AddTriggerSilo();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapGateway();
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapOrleansDashboard("/dashboard").AddEndpointFilter<AdminAccessFilter>();
        return app;
    }

    /// <summary>
    /// Every line carries its scopes (delivery, repository, ref, revision); <c>Logging:Console:FormatterName=json</c>
    /// switches the console to one JSON object per line.
    /// </summary>
    private static readonly Dictionary<string, string?> LoggingDefaults = new()
    {
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        ["Logging:LogLevel:Orleans"] = "Warning",
        ["Logging:LogLevel:Polly"] = "Warning",
        ["Logging:Console:FormatterOptions:IncludeScopes"] = "true",
        ["Logging:Console:FormatterOptions:UseUtcTimestamp"] = "true",
        ["Logging:Console:FormatterOptions:TimestampFormat"] = "yyyy-MM-ddTHH:mm:ss.fffZ ",
    };

    /// <summary>Runs until stopped; a configuration error or a port in use ends the process with one line.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            await using var app = Create(args);

            // Checked before anything starts, so a bad value costs one line, not a half-started silo.
            app.Services.GetRequiredService<IStartupValidator>().Validate();

            // Orleans checks its own options (membership timings, ...) only as the silo starts, where a failure
            // is logged with a stack trace; run here, its checks end in one line as well.
            foreach (var validator in app.Services.GetServices<IConfigurationValidator>())
            {
                validator.ValidateConfiguration();
            }

            if (PortCheck.FirstInUse(app.Configuration["urls"], app.Configuration.GetSection(OrleansOptions.Section).Get<OrleansOptions>() ?? new OrleansOptions()) is { } inUse)
            {
                await Console.Error.WriteLineAsync(inUse);
                return 2;
            }
            await app.RunAsync();
            return 0;
        }
        catch (Exception e) when (StartupFailure.Describe(e) is { } line)
        {
            await Console.Error.WriteLineAsync(line);
            return 2;
        }
    }
}

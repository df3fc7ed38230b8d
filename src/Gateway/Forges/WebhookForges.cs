using CiTrigger.Gateway.Forges.GitHub;
using CiTrigger.Gateway.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CiTrigger.Gateway.Forges;

/// <summary>
/// The forges the gateway takes webhooks from, each a folder beside <c>GitHub/</c> behind <see cref="IWebhookForge"/>.
/// A second forge is its folder and one more entry in <see cref="All"/>.
/// </summary>
public static class WebhookForges
{
    private static readonly ForgeEntry[] All = [GitHubForge.Entry];

    /// <summary>Every event name a forge reads: what <c>Handler:Events</c> and <c>Handler:Actions</c> may name.</summary>
    public static IReadOnlySet<string> SupportedEvents { get; } = All.SelectMany(f => f.Events).ToHashSet(StringComparer.Ordinal);

    /// <summary>Every event name a forge knows, the supported ones and those it answers itself (GitHub's <c>ping</c>): the metrics' labels.</summary>
    public static IReadOnlySet<string> KnownEvents { get; } = All.SelectMany(f => f.KnownEvents).ToHashSet(StringComparer.Ordinal);

    public static IServiceCollection AddWebhookForges(this IServiceCollection services)
    {
        foreach (var forge in All)
        {
            forge.Add(services);
        }

        return services;
    }

    /// <summary>Each forge's webhook endpoint, all answered by the one <see cref="WebhookReceiver"/>.</summary>
    public static IEndpointRouteBuilder MapWebhookForges(this IEndpointRouteBuilder app)
    {
        foreach (var forge in app.ServiceProvider.GetServices<IWebhookForge>())
        {
            app.MapPost(forge.Route, (HttpContext http, WebhookReceiver receiver) => receiver.ReceiveAsync(http, forge));
        }

        return app;
    }
}

/// <summary>
/// What the gateway knows of a forge before its services exist: the event names it reads (<paramref name="Events"/>)
/// and knows (<paramref name="KnownEvents"/>), checked with the configuration at start-up, and how to add its services.
/// </summary>
public sealed record ForgeEntry(IReadOnlySet<string> Events, IReadOnlySet<string> KnownEvents, Action<IServiceCollection> Add);

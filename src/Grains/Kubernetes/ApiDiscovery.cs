using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>
/// Maps apiVersion + kind to a resource through the API server's discovery documents, cached per
/// group/version. A kind the cached document lacks is looked up again at once, so a CRD installed after
/// start-up is found by the next event that names it (at the price of one discovery request per event
/// naming a kind the cluster does not serve), and a group/version whose resource the server answered
/// "not found" for is forgotten (<see cref="Forget"/>), so a CRD removed or changed is looked up again too.
/// </summary>
public sealed class ApiDiscovery(IKubernetes client, IOptions<KubernetesOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (IReadOnlyList<ApiResource>? Resources, DateTimeOffset At)> cache = new(StringComparer.Ordinal);

    /// <summary>The resource for the kind, or null when the cluster does not serve it.</summary>
    public async Task<ApiResource?> ResolveAsync(string apiVersion, string kind, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (cache.TryGetValue(apiVersion, out var cached) && now - cached.At < options.Value.DiscoveryTtl && Find(cached.Resources, kind) is { } hit)
        {
            return hit;
        }

        var resources = await FetchAsync(apiVersion, cancellationToken);
        cache[apiVersion] = (resources, now);
        return Find(resources, kind);
    }

    /// <summary>Drops what is cached for a group/version, so the next lookup asks the server.</summary>
    public void Forget(string apiVersion) => cache.TryRemove(apiVersion, out _);

    private static ApiResource? Find(IReadOnlyList<ApiResource>? resources, string kind) =>
        resources?.FirstOrDefault(r => r.Kind == kind);

    private async Task<IReadOnlyList<ApiResource>?> FetchAsync(string apiVersion, CancellationToken cancellationToken)
    {
        var (group, version) = (ApiResource.GroupOf(apiVersion), ApiResource.VersionOf(apiVersion));
        V1APIResourceList list;
        try
        {
            list = group.Length == 0
                ? await client.CoreV1.GetAPIResourcesAsync(cancellationToken)
                : await client.CustomObjects.GetAPIResourcesAsync(group, version, cancellationToken);
        }
        catch (Exception e) when (KubernetesFailures.IsNotFound(e))
        {
            return null;
        }

        return list.Resources
            .Where(r => !r.Name.Contains('/', StringComparison.Ordinal))
            .Select(r => new ApiResource(group, version, r.Name, r.Kind, r.Namespaced))
            .ToList();
    }
}

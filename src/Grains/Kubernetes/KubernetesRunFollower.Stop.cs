using System.Net;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace CiTrigger.Grains.Kubernetes;

public sealed partial class KubernetesRunFollower
{
    /// <summary>Stops a run object the way its <see cref="RunKind.Stop"/> says.</summary>
    public async Task StopAsync(RunObjectRecord run, CancellationToken cancellationToken)
    {
        var what = $"stopping {run.Kind} {run.Namespace}/{run.Name}";
        if (RunKinds.Find(run.ApiVersion, run.Kind) is not { } kind)
        {
            throw new PermanentException($"{what}: {run.ApiVersion} {run.Kind} is not a run kind");
        }

        try
        {
            // A kind the cluster no longer serves has no objects left to stop.
            if (await discovery.ResolveAsync(run.ApiVersion, run.Kind, cancellationToken) is not { } r)
            {
                return;
            }

            try
            {
                await (kind.Stop.MergePatch is { } patch
                    ? client.CustomObjects.PatchNamespacedCustomObjectAsync(new V1Patch(JsonNode.Parse(patch)!, V1Patch.PatchType.MergePatch),
                        r.Group, r.Version, run.Namespace, r.Plural, run.Name, cancellationToken: cancellationToken)
                    : client.CustomObjects.DeleteNamespacedCustomObjectAsync(r.Group, r.Version, run.Namespace, r.Plural, run.Name,
                        propagationPolicy: "Background", cancellationToken: cancellationToken));
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden)
            {
                var access = new ApiAccess(kind.Stop.Verb, r, new ObjectRef(run.ApiVersion, run.Kind, run.Namespace, run.Name, null));
                throw new PermanentException($"{what}: the API server answered 403: {ApiRefusal.Forbidden(Message(e), access, manifests.Value.Namespace, [kind.Stop.Verb])}", e);
            }
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Gone already: stopped, finished and cleaned up, or deleted by someone.
        }
        catch (HttpOperationException e) when (ApiRefusal.IsTransient(e.Response.StatusCode))
        {
            throw new TransientException($"{what}: the API server answered {(int)e.Response.StatusCode} {Message(e)}", e);
        }
        catch (HttpOperationException e)
        {
            throw new PermanentException($"{what}: the API server answered {(int)e.Response.StatusCode} {Message(e)}", e);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new TransientException($"{what}: the API server could not be reached in time: {e.Message}", e);
        }
    }

    private static string Message(HttpOperationException e) => ApiRefusal.StatusMessage(e.Response.Content);
}

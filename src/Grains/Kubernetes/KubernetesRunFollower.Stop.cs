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

        ApiResource? resource = null;
        try
        {
            // A kind the cluster no longer serves has no objects left to stop.
            resource = await discovery.ResolveAsync(run.ApiVersion, run.Kind, cancellationToken);
            if (resource is null)
            {
                return;
            }

            var r = resource;
            await (kind.Stop.MergePatch is { } patch
                ? client.CustomObjects.PatchNamespacedCustomObjectAsync(new V1Patch(JsonNode.Parse(patch)!, V1Patch.PatchType.MergePatch),
                    r.Group, r.Version, run.Namespace, r.Plural, run.Name, cancellationToken: cancellationToken)
                : client.CustomObjects.DeleteNamespacedCustomObjectAsync(r.Group, r.Version, run.Namespace, r.Plural, run.Name,
                    propagationPolicy: "Background", cancellationToken: cancellationToken));
        }
        catch (Exception e) when (KubernetesFailures.IsNotFound(e))
        {
            // Gone already: stopped, finished and cleaned up, or deleted by someone.
        }
        catch (HttpOperationException e) when (KubernetesFailures.IsForbidden(e) && resource is not null)
        {
            var access = new ApiAccess(kind.Stop.Verb, resource, new ObjectRef(run.ApiVersion, run.Kind, run.Namespace, run.Name, null));
            var refusal = ApiRefusal.Forbidden(ApiRefusal.StatusMessage(e.Response.Content), access, manifests.Value.Namespace, [kind.Stop.Verb]);
            throw new PermanentException($"{what}: the API server answered 403: {refusal}", e);
        }
        catch (Exception e) when (KubernetesFailures.Classify(e, what, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }
}

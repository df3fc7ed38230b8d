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
    /// <summary>The verb stopping a run of <paramref name="kind"/> uses: Jobs are deleted, the others patched.</summary>
    public static string StopVerb(string kind) => kind == "Job" ? "delete" : "patch";

    public async Task StopAsync(RunObjectRecord run, CancellationToken cancellationToken)
    {
        var what = $"stopping {run.Kind} {run.Namespace}/{run.Name}";
        if (!RunResults.IsRunKind(run.ApiVersion, run.Kind))
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
                await (run.Kind switch
                {
                    "Job" => client.CustomObjects.DeleteNamespacedCustomObjectAsync(r.Group, r.Version, run.Namespace, r.Plural, run.Name,
                        propagationPolicy: "Background", cancellationToken: cancellationToken),
                    "Workflow" => Patch(r, run, new JsonObject { ["spec"] = new JsonObject { ["shutdown"] = "Terminate" } }, cancellationToken),
                    "TaskRun" => Patch(r, run, new JsonObject { ["spec"] = new JsonObject { ["status"] = "TaskRunCancelled" } }, cancellationToken),
                    _ => Patch(r, run, new JsonObject { ["spec"] = new JsonObject { ["status"] = "Cancelled" } }, cancellationToken),
                });
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden)
            {
                var access = new ApiAccess(StopVerb(run.Kind), r, new ObjectRef(run.ApiVersion, run.Kind, run.Namespace, run.Name, null));
                throw new PermanentException($"{what}: the API server answered 403: {ApiRefusal.Forbidden(Message(e), access, manifests.Value.Namespace, [StopVerb(run.Kind)])}", e);
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

    private Task<object> Patch(ApiResource r, RunObjectRecord run, JsonObject patch, CancellationToken ct) =>
        client.CustomObjects.PatchNamespacedCustomObjectAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch),
            r.Group, r.Version, run.Namespace, r.Plural, run.Name, cancellationToken: ct);

    private static string Message(HttpOperationException e) => ApiRefusal.StatusMessage(e.Response.Content);
}

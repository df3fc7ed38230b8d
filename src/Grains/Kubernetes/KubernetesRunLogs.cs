using System.Text;
using System.Text.Json;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>
/// Finds the failed container of a failed run and reads the end of its log
/// (<c>GET /api/v1/namespaces/{ns}/pods/{pod}/log?container=…&amp;tailLines=…&amp;limitBytes=…</c>): a Job's failed pod
/// (label <c>job-name</c>) and its container that exited non-zero; an Argo Workflow's failed pod node
/// (<c>status.nodes</c>, the pod carrying its <c>workflows.argoproj.io/node-id</c>), container <c>main</c>; a Tekton
/// TaskRun's <c>status.podName</c> and its failed step's container. Run objects are read with <c>list</c> and a
/// field selector (the Role grants list, not get, on run kinds). The values of every Secret the pod references
/// are masked; when one of them cannot be read, no line is shown, unless it is the run's own Git credential Secret,
/// deleted as the run finished, whose token is masked by its shape.
/// </summary>
public sealed partial class KubernetesRunLogs(IKubernetes client, ILogger<KubernetesRunLogs> logger) : IRunLogs
{
    public const string WorkflowLabel = "workflows.argoproj.io/workflow";
    public const string NodeIdAnnotation = "workflows.argoproj.io/node-id";

    public async Task<RunLog?> FailedLogAsync(AppliedObject run, CancellationToken cancellationToken)
    {
        if (RunKinds.Find(run.ApiVersion, run.Kind) is not { } kind)
        {
            return null;
        }

        (V1Pod Pod, string Container)? target = null;
        try
        {
            target = kind.Kind switch
            {
                "Job" => await JobAsync(run, cancellationToken),
                "Workflow" => await WorkflowAsync(run, kind, cancellationToken),
                "TaskRun" => await TaskRunAsync(run, kind, cancellationToken),
                _ => null,
            };
            if (target is not var (pod, container))
            {
                return null;
            }

            var secrets = new List<string>();
            foreach (var name in SecretsOf(pod.Spec))
            {
                V1Secret secret;
                try
                {
                    secret = await client.CoreV1.ReadNamespacedSecretAsync(name, run.Namespace, cancellationToken: cancellationToken);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    if (KubernetesFailures.IsNotFound(e) && await IsRunCredentialAsync(run, kind, name, cancellationToken))
                    {
                        continue;
                    }

                    return new RunLog(pod.Name(), container, null, $"Secret {name}, which the pod uses, could not be read to mask its values ({Reason(e)})");
                }

                secrets.AddRange((secret.Data ?? new Dictionary<string, byte[]>()).Values.Select(v => Encoding.UTF8.GetString(v)));
            }

            await using var stream = await client.CoreV1.ReadNamespacedPodLogAsync(pod.Name(), run.Namespace, container: container,
                limitBytes: RunLogText.ReadBytes, tailLines: RunLogText.Lines, cancellationToken: cancellationToken);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var log = await reader.ReadToEndAsync(cancellationToken);

            // A pod that never ran on a node answers 204, and a container may write nothing: no empty block in the check.
            return log.Length == 0
                ? new RunLog(pod.Name(), container, null, "the container wrote no log (or its pod never ran on a node)")
                : new RunLog(pod.Name(), container, RunLogText.Tail(RunLogText.Masked(log, secrets)));
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            Log.Unreadable(logger, e, run.Kind, run.Namespace, run.Name);
            return target is var (pod, container) ? new RunLog(pod.Name(), container, null, $"the log could not be read ({Reason(e)})") : null;
        }
    }

    /// <summary>The Job's newest failed pod and its first container that exited with another code than 0.</summary>
    private async Task<(V1Pod, string)?> JobAsync(AppliedObject run, CancellationToken ct)
    {
        var pods = await client.CoreV1.ListNamespacedPodAsync(run.Namespace, labelSelector: $"job-name={run.Name}", cancellationToken: ct);
        var failed = pods.Items.Where(p => p.Status?.Phase == "Failed").MaxBy(p => p.Metadata.CreationTimestamp);
        if (failed is null)
        {
            return null;
        }

        var container = failed.Status.ContainerStatuses?.FirstOrDefault(c => c.State?.Terminated is { ExitCode: not 0 })?.Name
            ?? failed.Spec.Containers[0].Name;
        return (failed, container);
    }

    /// <summary>The Workflow's failed pod node that finished last, its pod, container <c>main</c>.</summary>
    private async Task<(V1Pod, string)?> WorkflowAsync(AppliedObject run, RunKind kind, CancellationToken ct)
    {
        if (await ReadAsync(run, kind, ct) is not { } workflow || !Status(workflow, out var status)
            || !status.TryGetProperty("nodes", out var nodes) || nodes.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var node = nodes.EnumerateObject().Select(n => n.Value)
            .Where(n => n.ValueKind == JsonValueKind.Object && Text(n, "type") == "Pod" && Text(n, "phase") is "Failed" or "Error" && Text(n, "id") is not null)
            .MaxBy(n => Text(n, "finishedAt") ?? "", StringComparer.Ordinal);
        if (node.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var id = Text(node, "id")!;
        var pods = await client.CoreV1.ListNamespacedPodAsync(run.Namespace, labelSelector: $"{WorkflowLabel}={run.Name}", cancellationToken: ct);
        var pod = pods.Items.FirstOrDefault(p => p.Metadata.Annotations?.TryGetValue(NodeIdAnnotation, out var n) == true && n == id)
            ?? pods.Items.FirstOrDefault(p => p.Metadata.Name == id);
        return pod is null ? null : (pod, "main");
    }

    /// <summary>The TaskRun's pod (<c>status.podName</c>) and the container of its first step that exited with another code than 0.</summary>
    private async Task<(V1Pod, string)?> TaskRunAsync(AppliedObject run, RunKind kind, CancellationToken ct)
    {
        if (await ReadAsync(run, kind, ct) is not { } taskRun || !Status(taskRun, out var status) || Text(status, "podName") is not { Length: > 0 } podName
            || !status.TryGetProperty("steps", out var steps) || steps.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var step = steps.EnumerateArray().FirstOrDefault(s => s.ValueKind == JsonValueKind.Object
            && s.TryGetProperty("terminated", out var t) && t.ValueKind == JsonValueKind.Object
            && t.TryGetProperty("exitCode", out var code) && code.ValueKind == JsonValueKind.Number && code.GetInt32() != 0);
        if (step.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var container = Text(step, "container") ?? (Text(step, "name") is { } name ? "step-" + name : null);
        return container is null ? null : (await client.CoreV1.ReadNamespacedPodAsync(podName, run.Namespace, cancellationToken: ct), container);
    }

    /// <summary>One run object as the cluster shows it, read by a list narrowed to its name.</summary>
    private async Task<JsonElement?> ReadAsync(AppliedObject run, RunKind kind, CancellationToken ct)
    {
        var list = await client.CustomObjects.ListNamespacedCustomObjectAsync(kind.Group, ApiResource.VersionOf(run.ApiVersion), run.Namespace, kind.Plural,
            fieldSelector: $"metadata.name={run.Name}", cancellationToken: ct);
        var root = list is JsonElement element ? element : JsonSerializer.SerializeToElement(list);
        return root.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array && items.GetArrayLength() == 1 ? items[0] : null;
    }

    /// <summary>
    /// Whether <paramref name="name"/> is the run's own Git credential Secret (its run object's
    /// <see cref="Manifests.ManifestAnnotator.GitAuthSecretAnnotation"/>), which the service deletes as the run
    /// finishes: its values are the user <c>x-access-token</c> and an installation token, which
    /// <see cref="RunLogText.Masked"/> masks by its shape, so the log is shown without them.
    /// </summary>
    private async Task<bool> IsRunCredentialAsync(AppliedObject run, RunKind kind, string name, CancellationToken ct) =>
        await ReadAsync(run, kind, ct) is { } obj && obj.TryGetProperty("metadata", out var metadata)
            && metadata.TryGetProperty("annotations", out var annotations) && annotations.ValueKind == JsonValueKind.Object
            && annotations.TryGetProperty(Manifests.ManifestAnnotator.GitAuthSecretAnnotation, out var secret)
            && secret.ValueKind == JsonValueKind.String && secret.GetString() == name;

    /// <summary>The names of the Secrets a pod takes values from: env, envFrom and volumes (projected ones too), of every container.</summary>
    public static IEnumerable<string> SecretsOf(V1PodSpec spec)
    {
        var containers = (spec.InitContainers ?? []).Concat(spec.Containers ?? []);
        var names = containers.SelectMany(c =>
                (c.Env ?? []).Select(e => e.ValueFrom?.SecretKeyRef?.Name)
                .Concat((c.EnvFrom ?? []).Select(e => e.SecretRef?.Name)))
            .Concat((spec.Volumes ?? []).Select(v => v.Secret?.SecretName))
            .Concat((spec.Volumes ?? []).SelectMany(v => v.Projected?.Sources ?? []).Select(s => s.Secret?.Name));
        return names.OfType<string>().Where(n => n.Length > 0).Distinct(StringComparer.Ordinal);
    }

    private static bool Status(JsonElement obj, out JsonElement status) =>
        obj.TryGetProperty("status", out status) && status.ValueKind == JsonValueKind.Object;

    private static string? Text(JsonElement obj, string field) => RunClassification.Text(obj, field);

    private static string Reason(Exception e) =>
        e is k8s.Autorest.HttpOperationException http ? $"the API server answered {(int)http.Response.StatusCode}" : e.GetType().Name;

    private static partial class Log
    {
        [LoggerMessage(66, LogLevel.Warning, "Could not read the log of the failed {Kind} {Namespace}/{Name}; its check shows no log")]
        public static partial void Unreadable(ILogger logger, Exception error, string kind, string @namespace, string name);
    }
}

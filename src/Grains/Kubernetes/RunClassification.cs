using System.Text.Json;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>
/// Reads where a run object stands from the object itself (its <c>status</c> is read whether or not the
/// kind has a status subresource), and which event it belongs to from its annotations: the delivery annotation
/// holds the id as it is (the label only a hash of an id that is no valid label value) and must agree with the label.
/// </summary>
public static class RunClassification
{
    public const string RefAnnotation = ManifestAnnotator.Prefix + "ref";

    /// <summary>Tekton's reasons for a run stopped on request (a cancel, or a graceful stop that ran its finally tasks).</summary>
    private static readonly HashSet<string> TektonCancelled =
        new(["Cancelled", "PipelineRunCancelled", "TaskRunCancelled", "StoppedRunFinally", "CancelledRunFinally"], StringComparer.Ordinal);

    /// <summary>Tekton's reasons for a run that hit its timeout.</summary>
    private static readonly HashSet<string> TektonTimedOut = new(["PipelineRunTimeout", "TaskRunTimeout"], StringComparer.Ordinal);

    /// <summary>
    /// The object as a run of an event, or null when it lacks the delivery label or the delivery, repository or ref
    /// annotation, or its label is not the one the service writes for that delivery (the object was changed by hand).
    /// </summary>
    public static RunObjectState? State(string apiVersion, string kind, JsonElement obj)
    {
        if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var label = Text(metadata, "labels", ManifestAnnotator.DeliveryLabel);
        var delivery = Text(metadata, "annotations", ManifestAnnotator.DeliveryAnnotation);
        var repository = Text(metadata, "annotations", ManifestAnnotator.RepositoryAnnotation);
        var @ref = Text(metadata, "annotations", RefAnnotation);
        var name = Text(metadata, "name");
        if (string.IsNullOrEmpty(label) || string.IsNullOrEmpty(delivery) || label != ManifestAnnotator.LabelValue(delivery) || string.IsNullOrEmpty(repository) || string.IsNullOrEmpty(@ref) || string.IsNullOrEmpty(name))
        {
            return null;
        }

        var (result, message) = RunKinds.Find(apiVersion, kind) is { } runKind ? Classify(runKind, obj) : (RunResult.Running, null);
        return new RunObjectState(delivery, repository, @ref, apiVersion, kind, Text(metadata, "namespace") ?? "", name, result, message,
            Text(metadata, "annotations", ManifestAnnotator.ForgeAnnotation));
    }

    /// <summary>Where a run object of <paramref name="kind"/> stands; <see cref="RunResult.Running"/> for anything not finished or not understood.</summary>
    public static (RunResult Result, string? Message) Classify(RunKind kind, JsonElement obj)
    {
        var status = obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
        return status.ValueKind == JsonValueKind.Object ? kind.ReadStatus(obj, status) : (RunResult.Running, null);
    }

    /// <summary>An Argo Workflow: finished by <c>status.phase</c>; one shut down (<c>spec.shutdown</c>) is cancelled.</summary>
    public static (RunResult, string?) Workflow(JsonElement obj, JsonElement status)
    {
        var phase = Text(status, "phase");
        var message = Text(status, "message");
        var finished = phase is "Succeeded" or "Failed" or "Error";
        var shutdown = obj.TryGetProperty("spec", out var spec) && spec.ValueKind == JsonValueKind.Object
            && Text(spec, "shutdown") is { Length: > 0 };
        return (finished, shutdown, phase) switch
        {
            (true, true, _) => (RunResult.Cancelled, message ?? "shut down"),
            (true, false, "Succeeded") => (RunResult.Success, null),
            (true, false, _) => (RunResult.Failure, message ?? phase),
            _ => (RunResult.Running, null),
        };
    }

    /// <summary>A batch Job: finished by its <c>Complete</c> or <c>Failed</c> condition; a deadline exceeded is timed out.</summary>
    public static (RunResult, string?) Job(JsonElement obj, JsonElement status)
    {
        foreach (var condition in Conditions(status))
        {
            if (condition.Status != "True")
            {
                continue;
            }

            switch (condition.Type)
            {
                case "Complete":
                    return (RunResult.Success, null);
                case "Failed":
                    return (condition.Reason == "DeadlineExceeded" ? RunResult.TimedOut : RunResult.Failure,
                        condition.Message ?? condition.Reason);
            }
        }

        return (RunResult.Running, null);
    }

    /// <summary>A Tekton PipelineRun or TaskRun: finished by its <c>Succeeded</c> condition, the reason telling cancelled and timed out apart.</summary>
    public static (RunResult, string?) Tekton(JsonElement obj, JsonElement status)
    {
        var succeeded = Conditions(status).FirstOrDefault(c => c.Type == "Succeeded");
        return succeeded.Status switch
        {
            "True" => (RunResult.Success, null),
            "False" when succeeded.Reason is { } reason && TektonCancelled.Contains(reason) => (RunResult.Cancelled, succeeded.Message ?? reason),
            "False" when succeeded.Reason is { } reason && TektonTimedOut.Contains(reason) => (RunResult.TimedOut, succeeded.Message ?? reason),
            "False" => (RunResult.Failure, succeeded.Message ?? succeeded.Reason),
            _ => (RunResult.Running, null),
        };
    }

    private static IEnumerable<(string? Type, string? Status, string? Reason, string? Message)> Conditions(JsonElement status)
    {
        if (!status.TryGetProperty("conditions", out var conditions) || conditions.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }

        foreach (var c in conditions.EnumerateArray().Where(c => c.ValueKind == JsonValueKind.Object))
        {
            yield return (Text(c, "type"), Text(c, "status"), Text(c, "reason"), Text(c, "message"));
        }
    }

    /// <summary>A string field of a JSON object, or null when it is missing or no string.</summary>
    internal static string? Text(JsonElement obj, string field) =>
        obj.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string? Text(JsonElement metadata, string map, string key) =>
        metadata.TryGetProperty(map, out var values) && values.ValueKind == JsonValueKind.Object ? Text(values, key) : null;
}

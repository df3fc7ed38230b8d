using System.Collections.Immutable;

namespace CiTrigger.Grains.Abstractions;

/// <summary>
/// Where a run object (an object of a kind the service follows, such as an Argo Workflow), or an event's
/// run as a whole, stands. The finished values are the check-run conclusions (<see cref="RunResults.Word"/>).
/// </summary>
[GenerateSerializer]
public enum RunResult
{
    Running,
    Success,
    Failure,
    Cancelled,
    TimedOut,
}

/// <summary>
/// One run object an event created, as far as the service has followed it (of the pipeline <see cref="Pipeline"/>
/// names, in pipeline mode). <see cref="StopPending"/>: the run
/// was cancelled (superseded, ref deleted) and the cluster has not yet confirmed the stop; kept durably, so an
/// activation on another silo sends it should this one die first.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RunObjectRecord(
    [property: Id(0)] string ApiVersion,
    [property: Id(1)] string Kind,
    [property: Id(2)] string Namespace,
    [property: Id(3)] string Name,
    [property: Id(4)] RunResult Result,
    [property: Id(5)] string? Message = null,
    [property: Id(6)] bool StopPending = false,
    [property: Id(7)] string? Pipeline = null);

/// <summary>
/// An event's run: what its run objects did after they were applied. <see cref="Result"/> is success only
/// when every object succeeded; <see cref="FinishedAt"/> is null while it runs.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RunRecord(
    [property: Id(0)] RunResult Result,
    [property: Id(1)] DateTimeOffset StartedAt,
    [property: Id(2)] DateTimeOffset? FinishedAt,
    [property: Id(3)] ImmutableList<RunObjectRecord> Objects)
{
    /// <summary>
    /// The part of the run that one pipeline's objects make (pipeline mode), as a run of its own: finished once they
    /// all finished, whatever the others do; null when the pipeline has no object in the run.
    /// </summary>
    public RunRecord? Part(string pipeline)
    {
        var objects = Objects.Where(o => o.Pipeline == pipeline).ToImmutableList();
        if (objects.IsEmpty)
        {
            return null;
        }

        var result = Aggregate(objects);
        return new RunRecord(result, StartedAt, result == RunResult.Running ? null : FinishedAt ?? StartedAt, objects);
    }

    /// <summary>
    /// A run's result from its objects': running while any runs; then success only when all succeeded, else the
    /// first of failure, timed out, cancelled that any object ended with (a failure says the most about the code,
    /// a timeout about the run, a cancellation only that someone stopped it).
    /// </summary>
    public static RunResult Aggregate(IReadOnlyCollection<RunObjectRecord> objects) =>
        objects.Any(o => o.Result == RunResult.Running) ? RunResult.Running
        : Severity.FirstOrDefault(r => objects.Any(o => o.Result == r), RunResult.Success);

    private static readonly RunResult[] Severity = [RunResult.Failure, RunResult.TimedOut, RunResult.Cancelled];

    /// <summary>
    /// The object a finished run failed or timed out by (the one its report names), as the log reader takes it;
    /// null when the run did neither.
    /// </summary>
    public AppliedObject? FailedObject() =>
        FinishedAt is not null && Result is RunResult.Failure or RunResult.TimedOut && Objects.FirstOrDefault(o => o.Result == Result) is { } failed
            ? new AppliedObject(failed.ApiVersion, failed.Kind, failed.Namespace, failed.Name, "failed")
            : null;
}

/// <summary>The words results are shown and reported with.</summary>
public static class RunResults
{
    /// <summary>The check-run conclusion word (<c>running</c> while unfinished).</summary>
    public static string Word(RunResult result) => result switch
    {
        RunResult.Running => "running",
        RunResult.Success => "success",
        RunResult.Failure => "failure",
        RunResult.Cancelled => "cancelled",
        _ => "timed_out",
    };
}

/// <summary>
/// What one list of the cluster covered: every labelled object of one run kind in one namespace. A followed
/// object is judged by a list only when the list covered it (same kind, same namespace).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RunListScope(
    [property: Id(0)] string ApiVersion,
    [property: Id(1)] string Kind,
    [property: Id(2)] string Namespace);

/// <summary>
/// A run object as the cluster shows it now, with the event it belongs to: <see cref="Delivery"/> from its
/// <c>k8s-webhook-handler.io/delivery</c> label, <see cref="Repository"/> and <see cref="Ref"/> from its
/// <c>repo_name</c> and <c>ref</c> annotations, and <see cref="Forge"/> from its <c>forge</c> annotation (null for
/// GitHub's events, which carry none), so <see cref="RefKey"/> finds the ref grain.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RunObjectState(
    [property: Id(0)] string Delivery,
    [property: Id(1)] string Repository,
    [property: Id(2)] string Ref,
    [property: Id(3)] string ApiVersion,
    [property: Id(4)] string Kind,
    [property: Id(5)] string Namespace,
    [property: Id(6)] string Name,
    [property: Id(7)] RunResult Result,
    [property: Id(8)] string? Message = null,
    [property: Id(9)] string? Forge = null);

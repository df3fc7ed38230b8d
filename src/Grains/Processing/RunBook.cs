using System.Collections.Immutable;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Pipeline;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// The rules of an event's run, without state of its own: which applied objects are followed, how one
/// report about an object changes the run, when the run is finished and with what result. Every change
/// returns the new record, or null when the report changes nothing (an unknown object, an object or run
/// already finished, a report that is still "running"), so repeated reports are harmless.
/// </summary>
public static class RunBook
{
    /// <summary>The message of a followed object that a list no longer holds.</summary>
    public const string DeletedUnwatched = "deleted while the service was not watching";

    /// <summary>The run of an event that applied <paramref name="objects"/>, or null when none of them is of a run kind (<see cref="RunKinds"/>).</summary>
    public static RunRecord? Start(IEnumerable<AppliedObject> objects, DateTimeOffset now)
    {
        var runs = objects
            .Where(o => RunKinds.Find(o.ApiVersion, o.Kind) is not null)
            .Select(o => new RunObjectRecord(o.ApiVersion, o.Kind, o.Namespace, o.Name, RunResult.Running, Pipeline: o.Pipeline))
            .ToImmutableList();
        return runs.IsEmpty ? null : new RunRecord(RunResult.Running, now, null, runs);
    }

    /// <summary>The run after <paramref name="state"/> was reported for one of its objects.</summary>
    public static RunRecord? Observe(RunRecord run, RunObjectState state, DateTimeOffset now)
    {
        if (run.FinishedAt is not null || state.Result == RunResult.Running)
        {
            return null;
        }

        var index = run.Objects.FindIndex(o => o.Result == RunResult.Running && Same(o, state.ApiVersion, state.Kind, state.Namespace, state.Name));
        return index < 0 ? null : Settle(run with { Objects = run.Objects.SetItem(index, run.Objects[index] with { Result = state.Result, Message = state.Message }) }, now);
    }

    /// <summary>
    /// The run after a list of every object of one kind in one namespace: a listed object takes its listed
    /// result; a running object of that kind and namespace the list lacks was deleted unseen and is cancelled
    /// (an object of another namespace is not judged by this list), unless
    /// <paramref name="missingIsDeleted"/> is false (a run too young to be sure the list could hold it).
    /// </summary>
    public static RunRecord? Listed(RunRecord run, RunListScope scope, IReadOnlyList<RunObjectState> listed, bool missingIsDeleted, DateTimeOffset now)
    {
        if (run.FinishedAt is not null)
        {
            return null;
        }

        var objects = run.Objects;
        for (var i = 0; i < objects.Count; i++)
        {
            var o = objects[i];
            if (o.Result != RunResult.Running || !Same(o, scope.ApiVersion, scope.Kind, scope.Namespace, o.Name))
            {
                continue;
            }

            var seen = listed.FirstOrDefault(s => Same(o, s.ApiVersion, s.Kind, s.Namespace, s.Name));
            if (seen is { Result: not RunResult.Running })
            {
                objects = objects.SetItem(i, o with { Result = seen.Result, Message = seen.Message });
            }
            else if (seen is null && missingIsDeleted)
            {
                objects = objects.SetItem(i, o with { Result = RunResult.Cancelled, Message = DeletedUnwatched });
            }
        }

        return objects == run.Objects ? null : Settle(run with { Objects = objects }, now);
    }

    /// <summary>The pipelines of a run (pipeline mode) in the order their objects were applied; none in single-file mode.</summary>
    public static IEnumerable<string> PipelinesOf(RunRecord run) => run.Objects.Select(o => o.Pipeline).OfType<string>().Distinct(StringComparer.Ordinal);

    /// <summary>The run ended as timed out when it has been running for <paramref name="timeout"/> or longer.</summary>
    public static RunRecord? TimeOut(RunRecord run, TimeSpan timeout, DateTimeOffset now) =>
        run.FinishedAt is null && now - run.StartedAt >= timeout
            ? End(run, RunResult.TimedOut, $"still running after {Format(timeout)}", now)
            : null;

    /// <summary>
    /// The run with every object still running ended as cancelled for <paramref name="reason"/>, and those
    /// objects marked to be stopped (<see cref="RunObjectRecord.StopPending"/>) until the cluster confirms it;
    /// except an object that <paramref name="newer"/> (the run of the event that cancels) applied too: that
    /// object is the newer event's run now, so it is never stopped, only no longer this run's. With
    /// <paramref name="pipelines"/>, only the objects of the pipelines it admits are cancelled (pipeline mode).
    /// </summary>
    public static RunRecord? Cancel(RunRecord run, string reason, DateTimeOffset now, RunRecord? newer = null, Func<string?, bool>? pipelines = null) =>
        run.FinishedAt is null && (pipelines is null || run.Objects.Any(o => o.Result == RunResult.Running && pipelines(o.Pipeline)))
            ? Settle(run with { Objects = [.. run.Objects.Select(o => o.Result != RunResult.Running || (pipelines is not null && !pipelines(o.Pipeline)) ? o
                : newer is not null && newer.Objects.Any(n => Same(n, o.ApiVersion, o.Kind, o.Namespace, o.Name))
                    ? o with { Result = RunResult.Cancelled, Message = $"{reason}, which applied this object again: it is that event's run now" }
                : o with { Result = RunResult.Cancelled, Message = reason, StopPending = true })] }, now)
            : null;

    /// <summary>
    /// The run no longer followed: its objects still running end as timed out for <paramref name="reason"/> (the
    /// service stopped waiting), and stops not yet confirmed are no longer sent.
    /// </summary>
    public static RunRecord GiveUp(RunRecord run, string reason, DateTimeOffset now)
    {
        var ended = run.FinishedAt is null ? End(run, RunResult.TimedOut, reason, now) : run;
        return ended with { Objects = [.. ended.Objects.Select(o => o.StopPending ? o with { StopPending = false } : o)] };
    }

    /// <summary>The run's objects the cluster still has to be told to stop.</summary>
    public static IEnumerable<RunObjectRecord> ToStop(RunRecord run) => run.Objects.Where(o => o.StopPending);

    /// <summary>The run after the stop of <paramref name="stopped"/> was confirmed (or given up); null when nothing changes.</summary>
    public static RunRecord? StopDone(RunRecord run, RunObjectRecord stopped)
    {
        var index = run.Objects.FindIndex(o => o.StopPending && Same(o, stopped.ApiVersion, stopped.Kind, stopped.Namespace, stopped.Name));
        return index < 0 ? null : run with { Objects = run.Objects.SetItem(index, run.Objects[index] with { StopPending = false }) };
    }

    /// <summary>How a run is reported to GitHub: running (in progress) or its final state, in one line naming the object that decided it.</summary>
    public static (StatusState State, string Description) Report(RunRecord run)
    {
        if (run.FinishedAt is null)
        {
            return (StatusState.Running, "running " + Name(run.Objects[0]) + More(run.Objects.Count));
        }

        if (run.Result == RunResult.Success)
        {
            return (StatusState.Success, Name(run.Objects[0]) + More(run.Objects.Count) + " succeeded");
        }

        var decisive = run.Objects.First(o => o.Result == run.Result);
        var state = run.Result switch
        {
            RunResult.Failure => StatusState.Failure,
            RunResult.TimedOut => StatusState.TimedOut,
            _ => StatusState.Cancelled,
        };
        var words = run.Result switch
        {
            RunResult.Failure => "failed",
            RunResult.TimedOut => "timed out",
            _ => "was cancelled",
        };
        var description = $"{Name(decisive)} {words}" + (decisive.Message is { Length: > 0 } message ? $": {OneLine(message)}" : "");
        return (state, description);
    }

    private static RunRecord End(RunRecord run, RunResult result, string message, DateTimeOffset now) =>
        Settle(run with { Objects = [.. run.Objects.Select(o => o.Result == RunResult.Running ? o with { Result = result, Message = message } : o)] }, now);

    private static RunRecord Settle(RunRecord run, DateTimeOffset now) =>
        RunRecord.Aggregate(run.Objects) is var result and not RunResult.Running ? run with { Result = result, FinishedAt = now } : run;

    /// <summary>The same object: kind, namespace and name, and the API group (a version may be listed under another).</summary>
    private static bool Same(RunObjectRecord o, string apiVersion, string kind, string ns, string name) =>
        o.Kind == kind && o.Namespace == ns && o.Name == name && ApiResource.GroupOf(o.ApiVersion) == ApiResource.GroupOf(apiVersion);

    private static string Name(RunObjectRecord o) => $"{o.Kind} {o.Name}";

    private static string More(int count) => count > 1 ? $" and {count - 1} more" : "";

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string Format(TimeSpan timeout) =>
        timeout.TotalHours >= 1 && timeout.Minutes == 0 && timeout.Seconds == 0 ? $"{timeout.TotalHours:0.#} h"
        : timeout.TotalMinutes >= 1 && timeout.Seconds == 0 ? $"{timeout.TotalMinutes:0.#} min"
        : $"{timeout.TotalSeconds:0.#} s";
}

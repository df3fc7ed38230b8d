using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Logging;

namespace CiTrigger.Grains.Processing;

// keepRuns: once a run (in pipeline mode, a pipeline's part of it) finished, the ref's finished run objects of that
// pipeline beyond the newest ones its repository keeps are deleted, off the grain's thread; a failure is logged only.
public sealed partial class RefRuns
{
    // The prunes in flight, by pipeline ("" for objects of none), each with the namespaces asked of it again while it
    // ran (null: none), so one more follows it, once, however often it was asked meanwhile.
    private readonly Dictionary<string, HashSet<string>?> pruning = new(StringComparer.Ordinal);

    /// <summary>
    /// Prunes the ref's run objects of <paramref name="pipeline"/> in the namespaces of <paramref name="finished"/>'s objects,
    /// when the repository keeps only some (<see cref="RepositorySettings.KeepRuns"/>): beside the ref's turns, never
    /// awaited, at most one prune per pipeline at a time.
    /// </summary>
    private void Prune(RunRecord finished, string? pipeline)
    {
        try
        {
            if (KeepRuns() is null)
            {
                return;
            }
        }
        catch (Exception error)
        {
            // The settings could not be read: the run is done all the same.
            Log.PruneFailed(logger, error, key, pipeline ?? "(none)");
            return;
        }

        var namespaces = finished.Objects.Select(o => o.Namespace).ToHashSet(StringComparer.Ordinal);
        var slot = pipeline ?? "";
        lock (pruning)
        {
            if (pruning.TryGetValue(slot, out var again))
            {
                // In flight: it runs once more when done, over these namespaces.
                var more = again ?? new HashSet<string>(StringComparer.Ordinal);
                more.UnionWith(namespaces);
                pruning[slot] = more;
                return;
            }

            pruning[slot] = null;
        }

        // Not awaited: the prune goes on beside the grain's turns, and never throws (see PruneAsync).
        _ = PruneAsync(pipeline, namespaces);
    }

    /// <summary>
    /// Prunes off the grain's thread, then once more for each time it was asked again meanwhile; the objects the ref
    /// still follows as running are left to it whatever the cluster says of them (their result has yet to reach the ref).
    /// </summary>
    private async Task PruneAsync(string? pipeline, HashSet<string> namespaces)
    {
        var slot = pipeline ?? "";
        while (true)
        {
            try
            {
                if (KeepRuns() is { } keep)
                {
                    var followed = history.Running.SelectMany(h => h.Run!.Objects).Where(o => o.Result == RunResult.Running).ToList();
                    var prune = new RunPrune(key, pipeline, namespaces, keep, followed);
                    var deleted = await Task.Run(() => pruner.PruneAsync(prune, CancellationToken.None));
                    if (deleted.Count > 0)
                    {
                        Log.Pruned(logger, deleted.Count, key, pipeline ?? "(none)", keep);
                    }
                }
            }
            catch (Exception error)
            {
                // The next run that finishes prunes again.
                Log.PruneFailed(logger, error, key, pipeline ?? "(none)");
            }

            lock (pruning)
            {
                if (pruning[slot] is not { } again)
                {
                    pruning.Remove(slot);
                    return;
                }

                pruning[slot] = null;
                namespaces = again;
            }
        }
    }

    /// <summary>The finished run objects the repository keeps per ref and pipeline; null when it keeps them all.</summary>
    private int? KeepRuns() =>
        RefKey.TryParse(key, out var repository, out _) && repositories.Find(repository)?.KeepRuns is { } keep and >= 0 ? keep : null;

    private static partial class Log
    {
        [LoggerMessage(160, LogLevel.Information, "Deleted {Count} finished run objects of {Key} (pipeline {Pipeline}) beyond the newest {Keep} its repository keeps")]
        public static partial void Pruned(ILogger logger, int count, string key, string pipeline, int keep);

        [LoggerMessage(161, LogLevel.Warning, "Could not delete the finished run objects of {Key} (pipeline {Pipeline}) beyond what its repository keeps; the next finished run tries again")]
        public static partial void PruneFailed(ILogger logger, Exception error, string key, string pipeline);
    }
}

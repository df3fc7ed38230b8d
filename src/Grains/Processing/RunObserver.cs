using System.Collections.Immutable;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Storage;
using Microsoft.Extensions.Logging;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// Routes what the cluster adapter sees to the refs: a changed object to the ref its annotations name
/// (Orleans finds that ref's one activation on whichever silo it lives), a list to the refs that the
/// catalog's unfinished set names, and to no other ref, so a re-list does not wake the whole cluster's refs.
/// </summary>
public sealed partial class RunObserver(IGrainFactory grains, IRefCatalog catalog, ILogger<RunObserver> logger) : IRunObserver
{
    // Refs told about one list at a time; a list after a restart may concern many refs.
    private const int ListFanOut = 16;

    public async Task ChangedAsync(RunObjectState state, CancellationToken cancellationToken)
    {
        // The labels and annotations come from the cluster, where anyone allowed to edit the objects can change them.
        var forge = state.Forge ?? ForgeNames.GitHub;
        if (!ForgeNames.IsForge(forge) || !Names.IsRepository(state.Repository) || !Names.IsGitRef(state.Ref) || !Names.IsDeliveryId(state.Delivery))
        {
            Log.Unroutable(logger, state.Kind, state.Namespace, state.Name);
            return;
        }

        await grains.GetGrain<IRefGrain>(RefKey.For(forge, state.Repository, state.Ref)).RunChanged(state).WaitAsync(cancellationToken);
    }

    public async Task ListedAsync(RunListScope scope, IReadOnlyList<RunObjectState> objects, CancellationToken cancellationToken)
    {
        var running = await catalog.ListRunningAsync();
        var byDelivery = objects.ToLookup(o => o.Delivery, StringComparer.Ordinal);
        var failed = 0;
        await Parallel.ForEachAsync(
            running.GroupBy(r => r.Key, StringComparer.Ordinal),
            new ParallelOptions { MaxDegreeOfParallelism = ListFanOut, CancellationToken = cancellationToken },
            async (byRef, ct) =>
            {
                var deliveries = byRef.Select(r => r.Delivery).ToImmutableArray();
                var theirs = deliveries.SelectMany(d => byDelivery[d]).ToImmutableList();
                try
                {
                    await grains.GetGrain<IRefGrain>(byRef.Key).RunsListed(scope, deliveries, theirs).WaitAsync(ct);
                }
                catch (Exception error) when (!ct.IsCancellationRequested)
                {
                    // One ref that cannot take the list does not keep it from the others; its runs wait for
                    // the next list, a watch event or their timeout.
                    Log.ListFailed(logger, error, byRef.Key, scope.Kind, scope.Namespace);
                    Interlocked.Increment(ref failed);
                }
            });

        // A ref that could not take the list (its silo died and is not yet declared dead) must get another
        // one: the follower lists again after a failed report, with backoff.
        if (failed > 0)
        {
            throw new TransientException($"{failed} ref(s) could not take the list of {scope.Kind} objects in {scope.Namespace}; it is listed again");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(144, LogLevel.Warning, "{Kind} {Namespace}/{Name} names no valid forge, repository, ref or delivery; its state is not routed")]
        public static partial void Unroutable(ILogger logger, string kind, string @namespace, string name);

        [LoggerMessage(145, LogLevel.Warning, "Could not give {Key} the list of {Kind} objects in {Namespace}")]
        public static partial void ListFailed(ILogger logger, Exception error, string key, string kind, string @namespace);
    }
}

namespace CiTrigger.Grains.Abstractions;

/// <summary>
/// One repository ref (key: <c>owner/repo:refs/heads/x</c>, see <see cref="RefKey"/>). The single
/// activation of this grain in the cluster owns the ref's durable queue and processes it one event at a
/// time, in order, so a branch's pushes and deletes never race.
/// </summary>
public interface IRefGrain : IGrainWithStringKey
{
    /// <summary>
    /// Stores the event in the ref's durable queue and returns once it is persisted. Processing happens
    /// after this call has returned. A delivery id the ref has seen before is answered
    /// <see cref="EnqueueStatus.Duplicate"/> and not queued again; a ref whose queue is full answers
    /// <see cref="EnqueueStatus.Full"/>. Throws when the store write fails: nothing is acknowledged then.
    /// </summary>
    Task<EnqueueResult> Enqueue(HookEvent hookEvent);

    /// <summary>
    /// Queues a finished event of this ref again under a new delivery id, <c>{delivery}-rerun-{n}</c>, with the
    /// same fields (a pull request's event needs no approval again); returns once the copy is stored. Throws
    /// when the store write fails: nothing is acknowledged then.
    /// </summary>
    Task<RerunResult> Rerun(RerunRequest request);

    /// <summary>The ref's queue, in-flight event and recent history.</summary>
    Task<RefSnapshot> GetSnapshot();

    /// <summary>Everything the ref knows about one delivery, or null when it has no record of it.</summary>
    Task<DeliveryRecord?> GetDelivery(string delivery);

    /// <summary>Makes the head of the queue eligible for an immediate new attempt.</summary>
    Task<AdminResult> RetryHead();

    /// <summary>Drops the head of the queue, recording it as skipped; the rest of the queue moves on.</summary>
    Task<AdminResult> SkipHead();

    /// <summary>Stops processing (events are still accepted and queued) or resumes it.</summary>
    Task<AdminResult> SetPaused(bool paused);

    /// <summary>Applies the repository-wide pause (see <see cref="IRepositoryGrain"/>) to this ref.</summary>
    Task SetRepositoryPaused(bool paused);

    /// <summary>
    /// One of the ref's run objects finished or was deleted (from the cluster's watch). Repeated or stale
    /// reports change nothing.
    /// </summary>
    Task RunChanged(RunObjectState state);

    /// <summary>
    /// A list of every object of one kind in one namespace arrived: <paramref name="objects"/> are the listed
    /// ones of <paramref name="deliveries"/>, the ref's unfinished runs as the catalog knows them. A followed
    /// object of that kind in that namespace the list lacks was deleted while nobody watched.
    /// </summary>
    Task RunsListed(RunListScope scope, System.Collections.Immutable.ImmutableArray<string> deliveries, System.Collections.Immutable.ImmutableList<RunObjectState> objects);

    /// <summary>Resumes processing of pending work, if any; used at start-up, by recovery, and when a run slot it waits for is its own.</summary>
    [OneWay]
    Task Wake();

    /// <summary>
    /// Whether the delivery still needs the run slot its repository gave it: it is queued here, or its run has not finished.
    /// Interleaved, so the repository grain can ask while this ref waits for it.
    /// </summary>
    [Orleans.Concurrency.AlwaysInterleave]
    Task<bool> HoldsRun(string delivery);
}

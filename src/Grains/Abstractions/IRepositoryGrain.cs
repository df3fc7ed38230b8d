namespace CiTrigger.Grains.Abstractions;

/// <summary>
/// A repository as a whole (key: <see cref="RefKey.Repository"/>, the lower-cased <c>owner/repo</c> of GitHub). Holds the repository-wide pause that
/// every ref of the repository honours, including refs that receive their first event later, and its run slots
/// (a Repository's <c>concurrencyLimit</c>), one grain across all silos.
/// </summary>
public interface IRepositoryGrain : IGrainWithStringKey
{
    /// <summary>Whether the repository is paused.</summary>
    Task<bool> IsPaused();

    /// <summary>Pauses or resumes the repository durably and tells its known refs at once.</summary>
    Task<AdminResult> SetPaused(bool paused);

    /// <summary>
    /// A run slot for the delivery of ref <paramref name="key"/> under the repository's <c>concurrencyLimit</c>: granted
    /// when fewer than <paramref name="limit"/> runs hold one and nobody asked earlier; otherwise the delivery keeps its
    /// place in line and its ref is woken (<see cref="IRefGrain.Wake"/>) when the slot is its own. Asking again is safe.
    /// </summary>
    Task<RunSlot> AcquireRunSlot(string key, string delivery, int limit);

    /// <summary>The delivery's run finished (or it ended without one): its slot goes to the next in line.</summary>
    Task ReleaseRunSlot(string delivery);

    /// <summary>The runs holding slots and the deliveries waiting for one, in order.</summary>
    Task<RepositoryRuns> GetRuns();
}

/// <summary>A delivery holding or waiting for a run slot, of the ref <see cref="Key"/>, since <see cref="Since"/>.</summary>
[GenerateSerializer, Immutable]
public sealed record RunSlotHolder(
    [property: Id(0)] string Key,
    [property: Id(1)] string Delivery,
    [property: Id(2)] DateTimeOffset Since);

/// <summary>The answer to a slot request: granted, or the place in line (1 = next) with how many hold one of how many.</summary>
[GenerateSerializer, Immutable]
public sealed record RunSlot(
    [property: Id(0)] bool Granted,
    [property: Id(1)] int Position,
    [property: Id(2)] int Running,
    [property: Id(3)] int Limit);

/// <summary>A repository's runs under its limit (null when none was ever asked for): those holding slots and those waiting, in order.</summary>
[GenerateSerializer, Immutable]
public sealed record RepositoryRuns(
    [property: Id(0)] int? Limit,
    [property: Id(1)] System.Collections.Immutable.ImmutableList<RunSlotHolder> Running,
    [property: Id(2)] System.Collections.Immutable.ImmutableList<RunSlotHolder> Waiting);

namespace CiTrigger.Grains.Processing;

/// <summary>
/// What one activation of a ref knows without storing it: the delivery being attempted right now, and
/// whether the ref's repository is paused (null until the repository grain was asked, then kept up to date
/// by it). The drain writes both; the events, the view and the catalog lines read them.
/// </summary>
public sealed class RefActivity
{
    /// <summary>The delivery being attempted right now, if any.</summary>
    public string? InFlight { get; set; }

    public bool? RepositoryPaused { get; set; }

    /// <summary>
    /// While the ref waits for a run slot of its repository: when to ask again should no wake come (the repository
    /// wakes the ref when the slot is its own).
    /// </summary>
    public DateTimeOffset? SlotWaitUntil { get; set; }

    /// <summary>How often the ref was woken: a wake that came while an attempt learned it must wait means its slot is free now.</summary>
    public int Wakes { get; set; }
}

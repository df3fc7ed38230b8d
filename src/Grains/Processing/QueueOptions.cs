namespace CiTrigger.Grains.Processing;

/// <summary>How a ref keeps its events: queue bound, ordering window, history, recovery (section <c>Handler</c>).</summary>
public sealed class QueueOptions
{
    public const string Section = "Handler";

    /// <summary>How long a push whose predecessor has not arrived may wait for it.</summary>
    public TimeSpan ReorderWindow { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Period of the reminder a ref holds while it has pending work.</summary>
    public TimeSpan ReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    public int HistorySize { get; set; } = 20;

    /// <summary>
    /// How long a ref's line in the catalog (and its events' lines) may trail the ref: the changes of this span
    /// are written together, one write for a burst.
    /// </summary>
    public TimeSpan CatalogDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Pending events one ref may hold; beyond it webhooks for that ref are answered 503 (nothing
    /// acknowledged). Bounds the memory and the size of the queue write a flood on one ref can cause.
    /// </summary>
    public int MaxQueueLength { get; set; } = 1000;

    public IEnumerable<string> Validate()
    {
        foreach (var (key, value) in new[] { ("HistorySize", HistorySize), ("MaxQueueLength", MaxQueueLength) })
        {
            if (value < 1)
            {
                yield return $"{Section}:{key}: must be at least 1 (was {value})";
            }
        }

        foreach (var (key, value) in new[] { ("ReminderPeriod", ReminderPeriod), ("CatalogDelay", CatalogDelay) })
        {
            if (value <= TimeSpan.Zero)
            {
                yield return $"{Section}:{key}: must be positive (was {value})";
            }
        }

        if (ReorderWindow < TimeSpan.Zero)
        {
            yield return $"{Section}:ReorderWindow: must not be negative (was {ReorderWindow})";
        }
    }
}

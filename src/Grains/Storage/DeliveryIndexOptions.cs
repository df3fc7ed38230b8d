using CiTrigger.Grains.GitHub;

namespace CiTrigger.Grains.Storage;

/// <summary>How long the delivery index remembers an accepted delivery id (section <c>Handler</c>).</summary>
public sealed class DeliveryIndexOptions
{
    public const string Section = "Handler";

    /// <summary>GitHub allows a manual redelivery for three days; a day more covers its retries and clock skew.</summary>
    public TimeSpan DedupeRetention { get; set; } = TimeSpan.FromDays(4);

    public IEnumerable<string> Validate()
    {
        // A delivery redelivered after its id was forgotten would be handled twice.
        if (DedupeRetention < RequestedRedeliveries.Window)
        {
            yield return $"{Section}:DedupeRetention: must be at least {RequestedRedeliveries.Window.TotalDays:0} days, as long as GitHub lets a delivery be redelivered (was {DedupeRetention})";
        }
    }
}

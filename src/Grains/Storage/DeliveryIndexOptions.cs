namespace CiTrigger.Grains.Storage;

/// <summary>How long the delivery index remembers an accepted delivery id (section <c>Handler</c>).</summary>
public sealed class DeliveryIndexOptions
{
    public const string Section = "Handler";

    /// <summary>GitHub allows a manual redelivery for three days; a day more covers its retries and clock skew.</summary>
    public TimeSpan DedupeRetention { get; set; } = TimeSpan.FromDays(4);

    public IEnumerable<string> Validate()
    {
        if (DedupeRetention <= TimeSpan.Zero)
        {
            yield return $"{Section}:DedupeRetention: must be positive (was {DedupeRetention})";
        }
    }
}

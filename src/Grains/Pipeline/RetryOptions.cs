namespace CiTrigger.Grains.Pipeline;

/// <summary>How often and how patiently a failing event is tried again (section <c>Handler</c>).</summary>
public sealed class RetryOptions
{
    public const string Section = "Handler";

    public int MaxAttempts { get; set; } = 15;

    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Each processing attempt's own deadline; keep it below the pod's termination grace period.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(20);

    public IEnumerable<string> Validate()
    {
        if (MaxAttempts < 1)
        {
            yield return $"{Section}:MaxAttempts: must be at least 1 (was {MaxAttempts})";
        }

        foreach (var (key, value) in new[] { ("RetryBaseDelay", RetryBaseDelay), ("RetryMaxDelay", RetryMaxDelay), ("AttemptTimeout", AttemptTimeout) })
        {
            if (value <= TimeSpan.Zero)
            {
                yield return $"{Section}:{key}: must be positive (was {value})";
            }
        }

        if (RetryMaxDelay < RetryBaseDelay)
        {
            yield return $"{Section}:RetryMaxDelay: must not be shorter than RetryBaseDelay";
        }
    }
}

namespace CiTrigger.Grains.Pipeline;

/// <summary>How often and how patiently a failing event is tried again (section <c>Handler</c>).</summary>
public sealed class RetryOptions
{
    public const string Section = "Handler";

    /// <summary>Attempts at processing one event (read, apply) before it is recorded as failed.</summary>
    public int MaxAttempts { get; set; } = 15;

    /// <summary>
    /// Attempts at sending one report to GitHub (a commit status, or one step of a check run) before it is
    /// dropped with a log line: a failing API must not hold a report lane for long, and the event does not depend on it.
    /// </summary>
    public int MaxReportAttempts { get; set; } = 3;

    /// <summary>
    /// Attempts at stopping one run object (superseded, its ref deleted) in one go; one that kept failing is
    /// sent again on the ref's next reminder tick, since the run is already recorded as cancelled.
    /// </summary>
    public int MaxStopAttempts { get; set; } = 5;

    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Each processing attempt's own deadline; keep it below the pod's termination grace period.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(20);

    public IEnumerable<string> Validate()
    {
        foreach (var (key, value) in new[] { ("MaxAttempts", MaxAttempts), ("MaxReportAttempts", MaxReportAttempts), ("MaxStopAttempts", MaxStopAttempts) })
        {
            if (value < 1)
            {
                yield return $"{Section}:{key}: must be at least 1 (was {value})";
            }
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

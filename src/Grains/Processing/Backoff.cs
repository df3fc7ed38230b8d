namespace CiTrigger.Grains.Processing;

/// <summary>Exponential backoff with "equal jitter": half the delay is fixed, half random.</summary>
public static class Backoff
{
    public static TimeSpan Delay(int failedAttempts, TimeSpan baseDelay, TimeSpan maxDelay, TimeSpan? retryAfter, Random random)
    {
        var exponent = Math.Clamp(failedAttempts - 1, 0, 30);
        var ceiling = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, exponent));
        var delay = TimeSpan.FromMilliseconds((ceiling / 2) + (random.NextDouble() * ceiling / 2));

        // A server's Retry-After is a floor, but never beyond our own ceiling.
        return retryAfter is { } asked && asked > delay ? TimeSpan.FromMilliseconds(Math.Min(asked.TotalMilliseconds, maxDelay.TotalMilliseconds)) : delay;
    }
}

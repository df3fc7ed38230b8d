namespace CiTrigger.Grains.Pipeline;

/// <summary>A failure that another attempt may not meet: network errors, timeouts, 5xx and 429 answers.</summary>
public sealed class TransientException(string message, Exception? inner = null, TimeSpan? retryAfter = null)
    : Exception(message, inner)
{
    /// <summary>How long the remote side asked us to wait, when it said so.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

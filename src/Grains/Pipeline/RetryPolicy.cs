using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.Pipeline;

/// <summary>What another attempt is worth: retry after <see cref="Delay"/>, or stop with <see cref="FinalError"/>.</summary>
public readonly record struct RetryDecision(bool Retry, TimeSpan Delay, string FinalError);

/// <summary>
/// The one retry policy: which failures are transient, the backoff between attempts (exponential with
/// "equal jitter": half the delay fixed, half random, and at least a server's Retry-After), the attempt
/// limits (an event's, a report's, a stop's: <see cref="RetryOptions"/>) and the words recorded when one is reached. Ref processing and the GitHub status reporting both
/// decide through it; delivery recovery spaces its repeated redelivery requests by its <see cref="Delay"/>.
/// </summary>
public sealed class RetryPolicy
{
    private readonly Random random;
    private readonly int maxReportAttempts;
    private readonly int maxStopAttempts;

    public RetryPolicy(IOptions<RetryOptions> options)
        : this(options.Value, Random.Shared)
    {
    }

    /// <summary>A policy with these bounds for events; reports and stops keep their default limits.</summary>
    public RetryPolicy(int maxAttempts, TimeSpan baseDelay, TimeSpan maxDelay, Random random)
        : this(new RetryOptions { MaxAttempts = maxAttempts, RetryBaseDelay = baseDelay, RetryMaxDelay = maxDelay }, random)
    {
    }

    private RetryPolicy(RetryOptions options, Random random)
    {
        MaxAttempts = options.MaxAttempts;
        BaseDelay = options.RetryBaseDelay;
        MaxDelay = options.RetryMaxDelay;
        maxReportAttempts = options.MaxReportAttempts;
        maxStopAttempts = options.MaxStopAttempts;
        this.random = random;
    }

    public int MaxAttempts { get; }

    public TimeSpan BaseDelay { get; }

    public TimeSpan MaxDelay { get; }

    /// <summary>Only failures known to be permanent are final; the attempt limit bounds the rest.</summary>
    public static bool IsTransient(Exception error) => error is not PermanentException;

    /// <summary>The same backoff for one report to GitHub, limited to <see cref="RetryOptions.MaxReportAttempts"/>.</summary>
    public RetryPolicy ForReports() => With(maxReportAttempts, BaseDelay, MaxDelay);

    /// <summary>The same backoff for stopping one run object, limited to <see cref="RetryOptions.MaxStopAttempts"/>.</summary>
    public RetryPolicy ForStops() => With(maxStopAttempts, BaseDelay, MaxDelay);

    /// <summary>The same backoff between other bounds (delivery recovery cannot ask again before its next scan).</summary>
    public RetryPolicy WithDelays(TimeSpan baseDelay, TimeSpan maxDelay) => With(MaxAttempts, baseDelay, maxDelay);

    private RetryPolicy With(int maxAttempts, TimeSpan baseDelay, TimeSpan maxDelay) => new(new RetryOptions
    {
        MaxAttempts = maxAttempts,
        MaxReportAttempts = maxReportAttempts,
        MaxStopAttempts = maxStopAttempts,
        RetryBaseDelay = baseDelay,
        RetryMaxDelay = maxDelay,
    }, random);

    /// <summary>What to do after attempt number <paramref name="failedAttempts"/> failed with <paramref name="error"/>.</summary>
    /// <param name="failedAttempts">Attempts made so far, the failed one included.</param>
    /// <param name="error">The failure.</param>
    /// <param name="description">How the failure is recorded.</param>
    public RetryDecision Decide(int failedAttempts, Exception error, string description)
    {
        if (!IsTransient(error))
        {
            return new RetryDecision(false, TimeSpan.Zero, description);
        }

        return failedAttempts >= MaxAttempts
            ? new RetryDecision(false, TimeSpan.Zero, $"gave up after {failedAttempts} attempts: {description}")
            : new RetryDecision(true, Delay(failedAttempts, (error as TransientException)?.RetryAfter), description);
    }

    /// <summary>The wait after <paramref name="failedAttempts"/> failures; a server's Retry-After is a floor, never beyond the ceiling.</summary>
    public TimeSpan Delay(int failedAttempts, TimeSpan? retryAfter)
    {
        var exponent = Math.Clamp(failedAttempts - 1, 0, 30);
        var ceiling = Math.Min(MaxDelay.TotalMilliseconds, BaseDelay.TotalMilliseconds * Math.Pow(2, exponent));
        var delay = TimeSpan.FromMilliseconds((ceiling / 2) + (random.NextDouble() * ceiling / 2));
        return retryAfter is { } asked && asked > delay ? TimeSpan.FromMilliseconds(Math.Min(asked.TotalMilliseconds, MaxDelay.TotalMilliseconds)) : delay;
    }

    /// <summary>
    /// Runs <paramref name="operation"/> until it succeeds or the policy says stop, waiting in between;
    /// for work that has no durable queue of its own (GitHub statuses). Returns the final error, or null.
    /// </summary>
    public async Task<Exception?> RunAsync(Func<CancellationToken, Task> operation, TimeProvider time, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await operation(cancellationToken);
                return null;
            }
            catch (Exception error) when (!cancellationToken.IsCancellationRequested)
            {
                var decision = Decide(attempt, error, error.Message);
                if (!decision.Retry)
                {
                    return error;
                }

                await Task.Delay(decision.Delay, time, cancellationToken);
            }
        }
    }
}

namespace CiTrigger.Grains.Pipeline;

/// <summary>The Retry-After header of an answer from GitHub or the Kubernetes API server, read one way for both.</summary>
public static class RetryAfterHeader
{
    public const string Name = "Retry-After";

    /// <summary>The wait a header value asks for, in whole seconds; null when there is none or it is no number (the date form is not read).</summary>
    public static TimeSpan? Parse(string? value) => int.TryParse(value, out var seconds) ? TimeSpan.FromSeconds(seconds) : null;
}

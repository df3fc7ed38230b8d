namespace CiTrigger.Gateway.Webhooks;

/// <summary>How webhooks are verified and bounded.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhook";

    /// <summary>HMAC secrets, comma-separated (several during a rotation); <c>WEBHOOK_SECRET</c> when unset.</summary>
    public string? Secrets { get; set; }

    /// <summary>Accept unsigned webhooks when no secret is configured. For local trials only.</summary>
    public bool Insecure { get; set; }

    /// <summary>Larger bodies are answered 413; GitHub never sends more than 25 MB.</summary>
    public long MaxPayloadBytes { get; set; } = 26_214_400;

    /// <summary>
    /// Memory all bodies not yet verified may hold together; beyond it the newcomer is answered 503. Room for
    /// two bodies of the largest size GitHub sends, a small part of the pod's heap.
    /// </summary>
    public long MaxUnverifiedBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>
    /// How long the gateway waits for the ref grain to store an event before answering 503. Well under
    /// GitHub's 10 s delivery timeout, and under Orleans' 30 s default.
    /// </summary>
    public TimeSpan AcceptTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>What the pooled segments of one body may hold beyond its bytes.</summary>
    private const long BufferSlack = 2 * 1024 * 1024;

    public IReadOnlyList<byte[]> SecretKeys =>
        [.. (Secrets ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(System.Text.Encoding.UTF8.GetBytes)];

    public IEnumerable<string> Validate()
    {
        if (SecretKeys.Count == 0 && !Insecure)
        {
            yield return $"{Section}:Secrets: no webhook secret is configured; set WEBHOOK_SECRET or {Section}:Secrets (or {Section}:Insecure=true to accept unsigned webhooks)";
        }

        if (MaxPayloadBytes < 1024)
        {
            yield return $"{Section}:MaxPayloadBytes: must be at least 1024 (was {MaxPayloadBytes})";
        }

        if (MaxUnverifiedBytes < MaxPayloadBytes + BufferSlack)
        {
            yield return $"{Section}:MaxUnverifiedBytes: must be at least {Section}:MaxPayloadBytes + {BufferSlack} (room for one whole body and its buffers; was {MaxUnverifiedBytes})";
        }

        if (AcceptTimeout <= TimeSpan.Zero || AcceptTimeout >= TimeSpan.FromSeconds(10))
        {
            yield return $"{Section}:AcceptTimeout: must be positive and below GitHub's 10 s delivery timeout (was {AcceptTimeout})";
        }
    }
}

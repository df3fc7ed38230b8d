namespace CiTrigger.Gateway.Forges.GitHub;

/// <summary>The headers GitHub sends with every webhook that the service reads.</summary>
public static class GitHubHeaders
{
    /// <summary>The event's name (<c>push</c>, <c>pull_request</c>, …).</summary>
    public const string Event = "X-GitHub-Event";

    /// <summary>The delivery's id, the same again when GitHub redelivers it.</summary>
    public const string Delivery = "X-GitHub-Delivery";

    /// <summary>The body's HMAC-SHA256 (<see cref="GitHubSignature"/>).</summary>
    public const string Signature = "X-Hub-Signature-256";
}

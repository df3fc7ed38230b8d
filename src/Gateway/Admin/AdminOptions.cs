namespace CiTrigger.Gateway.Admin;

/// <summary>Who may use <c>/admin</c> (and <c>/dashboard</c>).</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>
    /// Required from every caller when set (a bearer token, or the session cookie of <c>/admin/login</c>);
    /// without it only loopback callers are served.
    /// </summary>
    public string? Token { get; set; }

    /// <param name="runsInPod">
    /// Whether the process runs in a Kubernetes pod. There a sidecar or proxy in the pod makes every caller
    /// look like loopback, so the loopback-only rule would open the admin API to anyone: a token is required.
    /// </param>
    public IEnumerable<string> Validate(bool runsInPod)
    {
        if (Token is { Length: > 0 and < 16 })
        {
            yield return $"{Section}:Token: use at least 16 characters";
        }

        if (runsInPod && string.IsNullOrEmpty(Token))
        {
            yield return $"{Section}:Token: required when running in a Kubernetes pod (KUBERNETES_SERVICE_HOST is set), where any caller may reach the service through loopback; set Admin__Token";
        }
    }
}

namespace CiTrigger.Gateway.Admin;

/// <summary>Who may use <c>/admin</c> (and <c>/dashboard</c>).</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>
    /// Bearer token required from every caller when set; without it only loopback callers are served.
    /// </summary>
    public string? Token { get; set; }

    public IEnumerable<string> Validate()
    {
        if (Token is { Length: > 0 and < 16 })
        {
            yield return $"{Section}:Token: use at least 16 characters";
        }
    }
}

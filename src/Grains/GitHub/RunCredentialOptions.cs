namespace CiTrigger.Grains.GitHub;

/// <summary>
/// Per-run Git credentials (section <c>Handler</c>): <c>Handler:RunCredentials</c>, on by default with a GitHub App.
/// Each applied event's run then gets an installation token that can only read its repository, in a Secret of its
/// own (see docs/checks-and-runs.md).
/// </summary>
public sealed class RunCredentialOptions
{
    public const string Section = "Handler";

    /// <summary>Mint a read-only token per applied event; unset: yes with an App, no in token mode.</summary>
    public bool? RunCredentials { get; set; }

    /// <summary>Whether tokens are minted: as configured, else with an App.</summary>
    public bool Enabled(bool isApp) => RunCredentials ?? isApp;

    public IEnumerable<string> Validate(bool isApp)
    {
        if (RunCredentials == true && !isApp)
        {
            yield return $"{Section}:RunCredentials: needs a GitHub App ({GitHubOptions.Section}:AppId): a token of one repository that can only read it is an App's installation token";
        }
    }
}

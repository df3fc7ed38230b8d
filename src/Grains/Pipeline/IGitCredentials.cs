namespace CiTrigger.Grains.Pipeline;

/// <summary>
/// A credential an event's run clones its repository with: HTTP basic authentication for <see cref="Origin"/> (the
/// scheme and host of the forge's git service), valid until <see cref="ExpiresAt"/>. Its text form leaves the
/// password out, so no log line can carry it.
/// </summary>
public sealed record GitCredential(string Username, string Password, Uri Origin, DateTimeOffset ExpiresAt)
{
    /// <summary>
    /// The credential as a line of git's credential store (<c>git config credential.helper 'store --file=…'</c>):
    /// <c>https://user:password@host</c>, user and password percent-encoded as git expects.
    /// </summary>
    public string StoreLine => $"{Origin.Scheme}://{Uri.EscapeDataString(Username)}:{Uri.EscapeDataString(Password)}@{Origin.Authority}";

    public override string ToString() => $"{nameof(GitCredential)} {{ Username = {Username}, Origin = {Origin}, ExpiresAt = {ExpiresAt:u} }}";
}

/// <summary>
/// The forge's side of per-run Git credentials (<c>Handler:RunCredentials</c>): a credential that reads one
/// repository and can do nothing else, minted for each applied event and handed to its run in a Secret
/// (<see cref="IRunSecrets"/>).
/// </summary>
public interface IGitCredentials
{
    /// <summary>Whether the forge adapter mints them at all: GitHub in App mode with <c>Handler:RunCredentials</c> (on by default with an App).</summary>
    bool Enabled { get; }

    /// <summary>
    /// A new credential that can only read the contents of <paramref name="repository"/> (GitHub: an installation token
    /// restricted to that one repository and <c>{"contents":"read"}</c>), never one the service itself uses. Throws
    /// <see cref="PermanentException"/> when the forge refuses it for good and <see cref="TransientException"/>
    /// when trying again may help.
    /// </summary>
    /// <param name="forge">The event's forge.</param>
    /// <param name="repository">The event's repository: for a pull request its base repository, never the head (a fork).</param>
    /// <param name="installation">The GitHub App installation the event came from, if it said.</param>
    /// <param name="cancellationToken">The attempt's deadline.</param>
    Task<GitCredential> ReadOnlyAsync(string forge, string repository, long? installation, CancellationToken cancellationToken);
}

/// <summary>Token mode, or <c>Handler:RunCredentials=false</c>: no credential is minted.</summary>
public sealed class NoGitCredentials : IGitCredentials
{
    public bool Enabled => false;

    public Task<GitCredential> ReadOnlyAsync(string forge, string repository, long? installation, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("per-run Git credentials are off (token mode, or Handler:RunCredentials=false)");
}

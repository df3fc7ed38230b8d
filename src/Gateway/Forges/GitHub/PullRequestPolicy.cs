using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Gateway.Forges.GitHub;

/// <summary>
/// Whom a pull request's events trust: authors and commenters whose <c>author_association</c> is in
/// <see cref="TrustedAssociations"/>; and the label that approves every head of a pull request while it is on
/// it, when a user with write access put it there.
/// </summary>
public sealed record PullRequestPolicy(IReadOnlySet<string> TrustedAssociations, string OkToTestLabel)
{
    /// <summary>The values GitHub sends in <c>author_association</c>.</summary>
    public static IReadOnlySet<string> Associations => AuthorAssociations.All;

    public static readonly PullRequestPolicy Default = new PullRequestOptions().Policy;

    public bool Trusts(string association) => TrustedAssociations.Contains(association);
}

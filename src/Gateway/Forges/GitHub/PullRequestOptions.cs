using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Gateway.Forges.GitHub;

/// <summary>Whom GitHub's pull request events and comments trust (section <c>Handler</c>).</summary>
public sealed class PullRequestOptions
{
    public const string Section = "Handler";

    /// <summary>Pull request authors and commenters with these <c>author_association</c>s are trusted.</summary>
    public string TrustedAssociations { get; set; } = "OWNER,MEMBER,COLLABORATOR";

    /// <summary>While this label is on a pull request, its every head runs without <c>/ok-to-test</c>.</summary>
    public string OkToTestLabel { get; set; } = "ok-to-test";

    // Built once per pair of values, not per webhook; rebuilt when either is set again.
    private Built? built;

    public PullRequestPolicy Policy
    {
        get
        {
            var current = built;
            if (current is null || !ReferenceEquals(current.Associations, TrustedAssociations) || !ReferenceEquals(current.Label, OkToTestLabel))
            {
                current = new Built(TrustedAssociations, OkToTestLabel,
                    new(OptionsValidation.SplitList(TrustedAssociations).Select(a => a.ToUpperInvariant()).ToHashSet(StringComparer.Ordinal), OkToTestLabel));
                built = current;
            }

            return current.Policy;
        }
    }

    public IEnumerable<string> Validate()
    {
        foreach (var a in OptionsValidation.SplitList(TrustedAssociations).Where(a => !PullRequestPolicy.Associations.Contains(a.ToUpperInvariant())))
        {
            yield return $"{Section}:TrustedAssociations: '{a}' is not an author_association (known: {string.Join(", ", PullRequestPolicy.Associations)})";
        }

        if (string.IsNullOrWhiteSpace(OkToTestLabel) || OkToTestLabel.Length > 50)
        {
            yield return $"{Section}:OkToTestLabel: a label name of 1 to 50 characters is needed";
        }
    }

    private sealed record Built(string Associations, string Label, PullRequestPolicy Policy);
}

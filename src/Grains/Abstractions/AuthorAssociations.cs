namespace CiTrigger.Grains.Abstractions;

/// <summary>The values GitHub sends in <c>author_association</c>: the gateway's trust and a Repository's <c>trustedAssociations</c> both name them.</summary>
public static class AuthorAssociations
{
    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        "OWNER", "MEMBER", "COLLABORATOR", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "MANNEQUIN", "NONE",
    };
}

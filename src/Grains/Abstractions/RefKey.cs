namespace CiTrigger.Grains.Abstractions;

/// <summary>
/// Grain keys. A GitHub ref's key is the lower-cased <c>owner/repo</c>, a colon, and the full ref
/// (<c>octo/app:refs/heads/main</c>), as it was before there were forges, so stored state and the admin
/// paths keep working. Any other forge's key starts with its name and a colon (<c>gitlab:group/app:refs/heads/main</c>),
/// so its refs never meet GitHub's. A repository path always holds a "/" and a forge name never does, so the
/// first colon tells whether a key starts with a forge; git refs and repository names cannot contain a colon,
/// so the next colon ends the repository.
/// </summary>
public static class RefKey
{
    public static string For(string forge, string repository, string gitRef) =>
        Repository(forge, repository) + ":" + gitRef;

    /// <summary>
    /// A repository as keys name it: the lower-cased path, behind its forge's name unless the forge is GitHub.
    /// It keys the repository's own grain too (<see cref="IRepositoryGrain"/>).
    /// </summary>
    public static string Repository(string forge, string repository) =>
        (forge == ForgeNames.GitHub ? "" : forge + ":") + repository.ToLowerInvariant();

    /// <summary>The repository (as <see cref="Repository"/> names it) and ref of a key this class built.</summary>
    public static (string Repository, string Ref) Split(string key) =>
        TryParse(key, out var repository, out var gitRef) ? (repository, gitRef) : throw new ArgumentException($"'{key}' is not a ref key", nameof(key));

    /// <summary>As <see cref="Split"/>: <paramref name="repository"/> carries the forge's name unless it is GitHub.</summary>
    public static bool TryParse(string key, out string repository, out string gitRef)
    {
        if (TryParse(key, out var forge, out repository, out gitRef))
        {
            repository = forge == ForgeNames.GitHub ? repository : forge + ":" + repository;
            return true;
        }

        return false;
    }

    /// <summary>The forge, repository path and ref of a key this class built.</summary>
    public static bool TryParse(string key, out string forge, out string repository, out string gitRef)
    {
        forge = ForgeNames.GitHub;
        var start = 0;
        var colon = key.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && !key.AsSpan(0, colon).Contains('/'))
        {
            // Only another forge's keys start with its name; "github:" would be a second key for a GitHub ref.
            forge = key[..colon];
            start = colon + 1;
            colon = key.IndexOf(':', start);
        }

        if (colon <= start || colon == key.Length - 1 || (start > 0 && (forge == ForgeNames.GitHub || !ForgeNames.IsForge(forge))))
        {
            forge = repository = gitRef = "";
            return false;
        }

        repository = key[start..colon];
        gitRef = key[(colon + 1)..];
        return true;
    }
}

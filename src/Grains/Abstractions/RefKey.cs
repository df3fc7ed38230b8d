namespace CiTrigger.Grains.Abstractions;

/// <summary>
/// Grain keys: the lower-cased <c>owner/repo</c>, a colon, and the full ref. Git refs cannot contain a
/// colon and repository names cannot either, so the first colon splits a key unambiguously.
/// </summary>
public static class RefKey
{
    public static string For(string repository, string gitRef) =>
        repository.ToLowerInvariant() + ":" + gitRef;

    /// <summary>The repository and ref of a key this class built.</summary>
    public static (string Repository, string Ref) Split(string key) =>
        TryParse(key, out var repository, out var gitRef) ? (repository, gitRef) : throw new ArgumentException($"'{key}' is not a ref key", nameof(key));

    public static bool TryParse(string key, out string repository, out string gitRef)
    {
        var colon = key.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == key.Length - 1)
        {
            repository = gitRef = "";
            return false;
        }

        repository = key[..colon];
        gitRef = key[(colon + 1)..];
        return true;
    }
}

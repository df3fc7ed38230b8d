using System.Text.RegularExpressions;

namespace CiTrigger.Grains.Abstractions;

/// <summary>
/// Which repository names and git refs are accepted anywhere (payloads, admin routes). Both become parts
/// of grain keys, URLs and annotation values, so they are checked once, here, the same way everywhere.
/// </summary>
public static partial class Names
{
    public const int MaxRepositoryLength = 140;
    public const int MaxRefLength = 1024;

    /// <summary>The longest delivery id: a Kubernetes label value.</summary>
    public const int MaxDeliveryLength = 63;

    /// <summary>The longest pipeline name: it becomes part of a check's name and of Kubernetes label values.</summary>
    public const int MaxPipelineLength = 63;

    /// <summary><c>owner/name</c> as GitHub allows them; no "." or ".." segments.</summary>
    public static bool IsRepository(string value) =>
        value.Length <= MaxRepositoryLength && RepositoryPattern().IsMatch(value) && value.Split('/') is [_, var name] && name is not ("." or "..");

    /// <summary>The owner and the name of a repository that <see cref="IsRepository"/> accepted.</summary>
    public static (string Owner, string Name) SplitRepository(string repository)
    {
        var slash = repository.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == repository.Length - 1)
        {
            throw new ArgumentException($"'{repository}' is not of the form owner/name", nameof(repository));
        }

        return (repository[..slash], repository[(slash + 1)..]);
    }

    /// <summary>
    /// The subset of git-check-ref-format that matters here: under <c>refs/</c>, no control characters or
    /// characters git forbids, no "..", "@{", "//", and no trailing "/", "." or ".lock". Beyond git: no
    /// hidden characters (<see cref="IndexOfHidden"/>), so that a ref reads the same in every log and UI.
    /// </summary>
    public static bool IsGitRef(string value) =>
        value.Length <= MaxRefLength && value.StartsWith("refs/", StringComparison.Ordinal) && RefPattern().IsMatch(value)
        && IndexOfHidden(value) < 0
        && !value.Contains("..", StringComparison.Ordinal) && !value.Contains("@{", StringComparison.Ordinal)
        && !value.Contains("//", StringComparison.Ordinal) && !value.EndsWith('/') && !value.EndsWith('.')
        && !value.EndsWith(".lock", StringComparison.Ordinal);

    /// <summary>A GitHub delivery id, usable as a Kubernetes label value (63 characters, alphanumeric ends).</summary>
    public static bool IsDeliveryId(string value) => value.Length <= MaxDeliveryLength && DeliveryPattern().IsMatch(value);

    /// <summary>
    /// A pipeline's name (a <c>.ci/NAME.yaml</c> file, <c>/test NAME</c>): 1 to <see cref="MaxPipelineLength"/>
    /// lower-case ASCII letters, digits and '-'. The gateway checks comments by it and the grains file names, so both agree.
    /// </summary>
    public static bool IsPipeline(string value)
    {
        if (value.Length is 0 or > MaxPipelineLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// A GitHub login (letters, digits and hyphens, at most 39, not starting with a hyphen; older accounts may
    /// have hyphens where new ones may not), or an App's bot user (<c>name[bot]</c>): it becomes part of a GitHub API path.
    /// </summary>
    public static bool IsLogin(string value) => LoginPattern().IsMatch(value);

    // "\z", not "$": "$" also matches before a final "\n", which let "octo/app\n" become a grain key.
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}/[A-Za-z0-9_.-]{1,100}\z")]
    private static partial Regex RepositoryPattern();

    [GeneratedRegex(@"^[^\x00-\x20\x7f~^:?*\[\\]+\z")]
    private static partial Regex RefPattern();

    [GeneratedRegex(@"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?\z")]
    private static partial Regex DeliveryPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9-]{0,38}(?:\[bot\])?\z")]
    private static partial Regex LoginPattern();
}

using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Manifests;

/// <summary>Where the manifest is, how big it may be, and where its objects may go (section <c>Handler</c>).</summary>
public sealed class ManifestOptions
{
    public const string Section = "Handler";

    public string Namespace { get; set; } = "ci";

    public string ManifestPath { get; set; } = ".ci/workflow.yaml";

    /// <summary>
    /// A directory of this machine that every manifest is read from instead of GitHub:
    /// <c>{LocalManifests}/{ManifestPath}</c>, whatever the repository and revision (see <see cref="LocalManifestSource"/>).
    /// </summary>
    public string? LocalManifests { get; set; }

    public int MaxManifestBytes { get; set; } = ManifestLimits.Default.MaxBytes;

    public int MaxYamlDepth { get; set; } = ManifestLimits.Default.MaxDepth;

    public int MaxYamlNodes { get; set; } = ManifestLimits.Default.MaxNodes;

    public int MaxDocuments { get; set; } = ManifestLimits.Default.MaxDocuments;

    /// <summary>Namespaces besides <see cref="Namespace"/> that a manifest may name (comma-separated).</summary>
    public string? AllowedNamespaces { get; set; }

    /// <summary>Whether a manifest may create cluster-scoped objects.</summary>
    public bool AllowClusterScoped { get; set; }

    public ManifestLimits Limits => new(MaxManifestBytes, MaxYamlDepth, MaxYamlNodes, MaxDocuments);

    public IReadOnlySet<string> NamespaceSet =>
        OptionsValidation.SplitList(AllowedNamespaces).Append(Namespace).ToHashSet(StringComparer.Ordinal);

    /// <summary>Problems with these options, each naming its configuration key.</summary>
    public IEnumerable<string> Validate()
    {
        foreach (var ns in NamespaceSet.Where(ns => !KubernetesNames.IsDnsLabel(ns)))
        {
            yield return $"{Section}:Namespace/AllowedNamespaces: '{ns}' is not a valid namespace name";
        }

        if (string.IsNullOrWhiteSpace(ManifestPath) || ManifestPath.StartsWith('/') || ManifestPath.Contains("..", StringComparison.Ordinal))
        {
            yield return $"{Section}:ManifestPath: '{ManifestPath}' must be a relative path inside the repository";
        }

        if (!string.IsNullOrWhiteSpace(LocalManifests) && !Directory.Exists(LocalManifests))
        {
            yield return $"{Section}:LocalManifests: '{LocalManifests}' is not a directory (relative paths start where the service was started)";
        }

        foreach (var (key, value) in new[] { ("MaxManifestBytes", MaxManifestBytes), ("MaxYamlDepth", MaxYamlDepth), ("MaxYamlNodes", MaxYamlNodes), ("MaxDocuments", MaxDocuments) })
        {
            if (value < 1)
            {
                yield return $"{Section}:{key}: must be at least 1 (was {value})";
            }
        }
    }
}

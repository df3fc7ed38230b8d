using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Manifests;

/// <summary>Where the manifest is, how big it may be, and where its objects may go (section <c>Handler</c>).</summary>
public sealed class ManifestOptions
{
    public const string Section = "Handler";

    public string Namespace { get; set; } = "ci";

    /// <summary>
    /// Set, the single-file mode: this one file is the event's manifest and its check is <c>GitHub:StatusContext</c>.
    /// Unset (the default), pipeline mode: every pipeline file in <see cref="PipelineDirectory"/>.
    /// </summary>
    public string? ManifestPath { get; set; }

    /// <summary>Pipeline mode's directory: each <c>*.yaml</c> / <c>*.yml</c> file directly in it is a pipeline.</summary>
    public string PipelineDirectory { get; set; } = ".ci";

    /// <summary>Whether an explicitly set <see cref="ManifestPath"/> keeps the single-file mode.</summary>
    public bool SingleFile => !string.IsNullOrWhiteSpace(ManifestPath);

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

    private static bool IsInside(string path) => !path.StartsWith('/') && !path.Contains("..", StringComparison.Ordinal);

    /// <summary>Problems with these options, each naming its configuration key.</summary>
    public IEnumerable<string> Validate()
    {
        foreach (var ns in NamespaceSet.Where(ns => !KubernetesNames.IsDnsLabel(ns)))
        {
            yield return $"{Section}:Namespace/AllowedNamespaces: '{ns}' is not a valid namespace name";
        }

        if (ManifestPath is not null && (string.IsNullOrWhiteSpace(ManifestPath) || !IsInside(ManifestPath)))
        {
            yield return $"{Section}:ManifestPath: '{ManifestPath}' must be a relative path inside the repository";
        }

        if (string.IsNullOrWhiteSpace(PipelineDirectory) || !IsInside(PipelineDirectory) || PipelineDirectory.EndsWith('/'))
        {
            yield return $"{Section}:PipelineDirectory: '{PipelineDirectory}' must be a relative directory inside the repository, without a trailing '/'";
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

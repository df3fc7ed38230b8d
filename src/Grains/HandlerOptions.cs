using CiTrigger.Grains.Events;
using CiTrigger.Grains.Manifests;

namespace CiTrigger.Grains;

/// <summary>What the handler does with events: filters, manifest location and limits, ordering and retries.</summary>
public sealed class HandlerOptions
{
    public const string Section = "Handler";

    public string Namespace { get; set; } = "ci";

    public string ManifestPath { get; set; } = ".ci/workflow.yaml";

    /// <summary>Refs matching this regular expression are acknowledged and ignored.</summary>
    public string? IgnoreRefs { get; set; }

    /// <summary>When set, only repositories (<c>owner/name</c>) matching this regular expression are handled.</summary>
    public string? Repositories { get; set; }

    public string Events { get; set; } = "push,delete,check_run,check_suite";

    /// <summary>How long a push whose predecessor has not arrived may wait for it.</summary>
    public TimeSpan ReorderWindow { get; set; } = TimeSpan.FromSeconds(5);

    public int MaxAttempts { get; set; } = 15;

    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Each processing attempt's own deadline; keep it below the pod's termination grace period.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Period of the reminder a ref holds while it has pending work.</summary>
    public TimeSpan ReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    public int HistorySize { get; set; } = 20;

    /// <summary>How long a delivery id is remembered; GitHub allows redelivery for three days.</summary>
    public TimeSpan DedupeRetention { get; set; } = TimeSpan.FromDays(4);

    /// <summary>
    /// Pending events one ref may hold; beyond it webhooks for that ref are answered 503 (nothing
    /// acknowledged). Bounds the memory and the size of the queue write a flood on one ref can cause.
    /// </summary>
    public int MaxQueueLength { get; set; } = 1000;

    public int MaxManifestBytes { get; set; } = ManifestLimits.Default.MaxBytes;

    public int MaxYamlDepth { get; set; } = ManifestLimits.Default.MaxDepth;

    public int MaxYamlNodes { get; set; } = ManifestLimits.Default.MaxNodes;

    public int MaxDocuments { get; set; } = ManifestLimits.Default.MaxDocuments;

    /// <summary>Namespaces besides <see cref="Namespace"/> that a manifest may name (comma-separated).</summary>
    public string? AllowedNamespaces { get; set; }

    /// <summary>Whether a manifest may create cluster-scoped objects.</summary>
    public bool AllowClusterScoped { get; set; }

    public ManifestLimits Limits => new(MaxManifestBytes, MaxYamlDepth, MaxYamlNodes, MaxDocuments);

    public IReadOnlySet<string> EventSet => Split(Events).ToHashSet(StringComparer.Ordinal);

    public IReadOnlySet<string> NamespaceSet =>
        Split(AllowedNamespaces).Append(Namespace).ToHashSet(StringComparer.Ordinal);

    public static IEnumerable<string> Split(string? list) =>
        (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

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

        foreach (var e in EventSet.Where(e => !GitHubEventReader.SupportedEvents.Contains(e)))
        {
            yield return $"{Section}:Events: '{e}' is not supported (supported: {string.Join(", ", GitHubEventReader.SupportedEvents)})";
        }

        if (EventSet.Count == 0)
        {
            yield return $"{Section}:Events: at least one event type is needed";
        }

        foreach (var (key, pattern) in new[] { ("IgnoreRefs", IgnoreRefs), ("Repositories", Repositories) })
        {
            if (pattern is not null && EventFilter.TryCompile(pattern, out var error) is null)
            {
                yield return $"{Section}:{key}: {error}";
            }
        }

        foreach (var (key, value) in new[] { ("MaxAttempts", MaxAttempts), ("HistorySize", HistorySize), ("MaxQueueLength", MaxQueueLength),
                     ("MaxManifestBytes", MaxManifestBytes), ("MaxYamlDepth", MaxYamlDepth), ("MaxYamlNodes", MaxYamlNodes), ("MaxDocuments", MaxDocuments) })
        {
            if (value < 1)
            {
                yield return $"{Section}:{key}: must be at least 1 (was {value})";
            }
        }

        foreach (var (key, value) in new[] { ("RetryBaseDelay", RetryBaseDelay), ("RetryMaxDelay", RetryMaxDelay), ("AttemptTimeout", AttemptTimeout),
                     ("ReminderPeriod", ReminderPeriod), ("DedupeRetention", DedupeRetention) })
        {
            if (value <= TimeSpan.Zero)
            {
                yield return $"{Section}:{key}: must be positive (was {value})";
            }
        }

        if (ReorderWindow < TimeSpan.Zero)
        {
            yield return $"{Section}:ReorderWindow: must not be negative (was {ReorderWindow})";
        }

        if (RetryMaxDelay < RetryBaseDelay)
        {
            yield return $"{Section}:RetryMaxDelay: must not be shorter than RetryBaseDelay";
        }
    }
}

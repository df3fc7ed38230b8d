using System.Collections.Immutable;
using System.Text.Json;
using System.Text.RegularExpressions;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>
/// What the service makes of the <c>Repository</c> objects it sees: each spec read and checked beyond what the CRD's
/// schema can say (a namespace the service applies to, parameter names that are not the fixed ones, a pipeline
/// directory inside the repository), and one repository claimed by two objects settled for the older one (then
/// the name), so a second team cannot take over a repository by creating an object for it. Pure: the watcher
/// feeds it objects and writes what it says into their <c>status.conditions</c>.
/// </summary>
public static partial class RepositoryResources
{
    public const string Group = "k8s-webhook-handler.io";
    public const string Version = "v1alpha1";
    public const string Plural = "repositories";
    public const string Kind = "Repository";

    /// <summary>The reasons a Ready condition names.</summary>
    public const string Accepted = "Accepted", InvalidSpec = "InvalidSpec", Duplicate = "Duplicate";

    /// <summary>The most parameters, and the longest value, a spec may have (the CRD says the same).</summary>
    public const int MaxParams = 64, MaxParamLength = 4096;

    /// <summary>One object as listed or watched: its identity, age, generation and spec.</summary>
    public sealed record Seen(string Namespace, string Name, DateTimeOffset Created, long Generation, JsonElement Spec, JsonElement Status)
    {
        public string Resource => $"{Namespace}/{Name}";
    }

    /// <summary>The object as the watch gives it; null when it lacks a name (never from a real server).</summary>
    public static Seen? From(JsonElement obj)
    {
        if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object
            || Text(metadata, "name") is not { } name || Text(metadata, "namespace") is not { } ns)
        {
            return null;
        }

        var created = Text(metadata, "creationTimestamp") is { } stamp && DateTimeOffset.TryParse(stamp, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal, out var at) ? at : DateTimeOffset.MaxValue;
        var generation = metadata.TryGetProperty("generation", out var g) && g.TryGetInt64(out var value) ? value : 0;
        return new Seen(ns, name, created, generation,
            obj.TryGetProperty("spec", out var spec) ? spec.Clone() : default,
            obj.TryGetProperty("status", out var status) ? status.Clone() : default);
    }

    /// <summary>
    /// Every object's verdict and the usable settings by repository. Of two objects naming one repository, the
    /// older keeps it (equal ages: the lesser namespace/name) and the other is not ready.
    /// </summary>
    public static (IReadOnlyList<RepositoryResource> All, IReadOnlyDictionary<string, RepositorySettings> Usable) Evaluate(
        IEnumerable<Seen> objects, ManifestOptions manifests)
    {
        var verdicts = new List<RepositoryResource>();
        var usable = new Dictionary<string, RepositorySettings>(StringComparer.Ordinal);
        var ordered = objects.OrderBy(o => o.Created).ThenBy(o => o.Resource, StringComparer.Ordinal);
        foreach (var seen in ordered)
        {
            var (settings, problem) = Read(seen, manifests);
            if (settings is null)
            {
                verdicts.Add(new RepositoryResource(seen.Resource, RepositoryOf(seen.Spec) ?? "", false, InvalidSpec, problem!, null));
            }
            else if (usable.TryGetValue(settings.Repository, out var first))
            {
                verdicts.Add(new RepositoryResource(seen.Resource, settings.Repository, false, Duplicate,
                    $"the repository {settings.Repository} is already configured by the older Repository {first.Resource}; delete one of them", null));
            }
            else
            {
                usable[settings.Repository] = settings;
                verdicts.Add(new RepositoryResource(seen.Resource, settings.Repository, true, Accepted, Describe(settings, manifests), settings));
            }
        }

        return (verdicts.OrderBy(v => v.Resource, StringComparer.Ordinal).ToList(), usable);
    }

    /// <summary>The settings of one spec, or the first reason it cannot be used.</summary>
    public static (RepositorySettings? Settings, string? Problem) Read(Seen seen, ManifestOptions manifests)
    {
        var spec = seen.Spec;
        if (spec.ValueKind != JsonValueKind.Object)
        {
            return (null, "spec is missing");
        }

        if (RepositoryOf(spec) is not { } repository)
        {
            return (null, "spec.repository must be a GitHub repository, owner/name");
        }

        var settings = new RepositorySettings(repository, seen.Resource);
        if (spec.TryGetProperty("namespace", out var ns))
        {
            if (ns.ValueKind != JsonValueKind.String || ns.GetString() is not { } value || !KubernetesNames.IsDnsLabel(value))
            {
                return (null, "spec.namespace must be a namespace name");
            }

            if (!manifests.NamespaceSet.Contains(value))
            {
                return (null, $"spec.namespace '{value}' is not a namespace the service applies to and follows runs in (Handler:Namespace, Handler:AllowedNamespaces: '{string.Join("', '", manifests.NamespaceSet.Order(StringComparer.Ordinal))}')");
            }

            settings = settings with { Namespace = value };
        }

        if (spec.TryGetProperty("pipelineDirectory", out var directory))
        {
            if (directory.ValueKind != JsonValueKind.String || directory.GetString() is not { Length: > 0 and <= 255 } path
                || path.StartsWith('/') || path.EndsWith('/') || path.Split('/').Any(s => s is "" or "." or ".."))
            {
                return (null, "spec.pipelineDirectory must be a relative directory inside the repository, without '.', '..' or a trailing '/'");
            }

            settings = settings with { PipelineDirectory = path };
        }

        if (spec.TryGetProperty("trustedAssociations", out var trusted))
        {
            if (trusted.ValueKind != JsonValueKind.Array)
            {
                return (null, "spec.trustedAssociations must be a list");
            }

            var associations = ImmutableArray.CreateBuilder<string>();
            foreach (var item in trusted.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String || item.GetString()!.ToUpperInvariant() is not { } association || !AuthorAssociations.All.Contains(association))
                {
                    return (null, $"spec.trustedAssociations: '{item}' is not an author_association (known: {string.Join(", ", AuthorAssociations.All)})");
                }

                associations.Add(association);
            }

            settings = settings with { TrustedAssociations = associations.Distinct().ToImmutableArray() };
        }

        if (spec.TryGetProperty("cancelSuperseded", out var cancel))
        {
            if (cancel.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                return (null, "spec.cancelSuperseded must be true or false");
            }

            settings = settings with { CancelSuperseded = cancel.GetBoolean() };
        }

        foreach (var (field, least) in new[] { ("concurrencyLimit", 1), ("keepRuns", 1) })
        {
            if (spec.TryGetProperty(field, out var number))
            {
                if (number.ValueKind != JsonValueKind.Number || !number.TryGetInt32(out var n) || n < least)
                {
                    return (null, $"spec.{field} must be a whole number of at least {least}");
                }

                settings = field == "concurrencyLimit" ? settings with { ConcurrencyLimit = n } : settings with { KeepRuns = n };
            }
        }

        if (spec.TryGetProperty("params", out var parameters))
        {
            var (values, problem) = ReadParams(parameters);
            if (problem is not null)
            {
                return (null, problem);
            }

            settings = settings with { Params = values };
        }

        return (settings, null);
    }

    private static (ImmutableSortedDictionary<string, string>? Values, string? Problem) ReadParams(JsonElement parameters)
    {
        if (parameters.ValueKind != JsonValueKind.Object)
        {
            return (null, "spec.params must be a map of names to strings");
        }

        var values = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var p in parameters.EnumerateObject())
        {
            if (!ParamName().IsMatch(p.Name))
            {
                return (null, $"spec.params: '{p.Name}' is no parameter name ([a-z][a-z0-9_]*, at most 63)");
            }

            if (ManifestParameters.Names.Contains(p.Name))
            {
                return (null, $"spec.params: '{p.Name}' is one of the fixed names, which a repository cannot change");
            }

            if (p.Value.ValueKind != JsonValueKind.String || p.Value.GetString()!.Length > MaxParamLength)
            {
                return (null, $"spec.params: '{p.Name}' must be a string of at most {MaxParamLength} characters");
            }

            values[p.Name] = p.Value.GetString()!;
        }

        return values.Count > MaxParams ? (null, $"spec.params: at most {MaxParams} parameters") : (values.ToImmutable(), null);
    }

    /// <summary>The Ready message of a usable spec: what it changes, so <c>kubectl get repo -o yaml</c> shows the service's reading.</summary>
    private static string Describe(RepositorySettings s, ManifestOptions manifests)
    {
        var parts = new List<string> { $"runs go to {s.Namespace ?? manifests.Namespace}" };
        if (s.ConcurrencyLimit is { } limit)
        {
            parts.Add($"at most {limit} at once");
        }

        if (s.KeepRuns is { } keep)
        {
            parts.Add($"{keep} finished runs kept per ref and pipeline");
        }

        return $"{s.Repository}: " + string.Join(", ", parts);
    }

    /// <summary>The repository a spec names, as keys name it (lower case), or null when it names none.</summary>
    private static string? RepositoryOf(JsonElement spec) =>
        spec.ValueKind == JsonValueKind.Object && spec.TryGetProperty("repository", out var r) && r.ValueKind == JsonValueKind.String
            && r.GetString() is { } name && Names.IsRepository(name)
            ? RefKey.Repository(ForgeNames.GitHub, name) : null;

    private static string? Text(JsonElement obj, string property) =>
        obj.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    [GeneratedRegex(@"^[a-z][a-z0-9_]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex ParamName();
}

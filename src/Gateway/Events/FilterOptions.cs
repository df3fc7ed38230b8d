using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Gateway.Events;

/// <summary>Which webhooks are handled at all (section <c>Handler</c>); the rest are acknowledged and ignored.</summary>
public sealed class FilterOptions
{
    public const string Section = "Handler";

    public string Events { get; set; } = "push,delete,check_run,check_suite";

    /// <summary>Refs matching this regular expression are acknowledged and ignored.</summary>
    public string? IgnoreRefs { get; set; }

    /// <summary>When set, only repositories whose whole <c>owner/name</c> matches this regular expression, in any case, are handled.</summary>
    public string? Repositories { get; set; }

    public IReadOnlySet<string> EventSet => OptionsValidation.SplitList(Events).ToHashSet(StringComparer.Ordinal);

    public IEnumerable<string> Validate()
    {
        foreach (var e in EventSet.Where(e => !GitHubEventReader.SupportedEvents.Contains(e)))
        {
            yield return $"{Section}:Events: '{e}' is not supported (supported: {string.Join(", ", GitHubEventReader.SupportedEvents)})";
        }

        if (EventSet.Count == 0)
        {
            yield return $"{Section}:Events: at least one event type is needed";
        }

        if (IgnoreRefs is not null && EventFilter.TryCompile(IgnoreRefs, out var refsError) is null)
        {
            yield return $"{Section}:IgnoreRefs: {refsError}";
        }

        if (Repositories is not null && EventFilter.TryCompileWholeName(Repositories, out var repositoriesError) is null)
        {
            yield return $"{Section}:Repositories: {repositoriesError}";
        }
    }
}

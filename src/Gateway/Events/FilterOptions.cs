using CiTrigger.Gateway.Forges;
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

    /// <summary>Handle only repositories that have a usable <c>Repository</c> resource; the others are answered <c>200 ignored: no Repository</c>.</summary>
    public bool RequireRepository { get; set; }

    /// <summary>When set, only refs whose whole name matches this regular expression are handled.</summary>
    public string? Refs { get; set; }

    /// <summary>The actions handled per event type (<c>type:a|b</c>, comma-separated); a type not listed keeps all its actions.</summary>
    public string Actions { get; set; } = DefaultActions;

    public const string DefaultActions = "pull_request:opened|synchronize|reopened|closed,check_run:rerequested,check_suite:rerequested";

    public IReadOnlySet<string> EventSet => OptionsValidation.SplitList(Events).ToHashSet(StringComparer.Ordinal);

    /// <summary><see cref="Actions"/> parsed; null when an entry is malformed (see <see cref="Validate"/>).</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>>? ActionMap => ParseActions(Actions, out _);

    private static Dictionary<string, IReadOnlySet<string>>? ParseActions(string text, out string error)
    {
        var map = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal);
        foreach (var entry in OptionsValidation.SplitList(text))
        {
            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            var type = colon > 0 ? entry[..colon].Trim() : "";
            var actions = colon > 0 ? entry[(colon + 1)..].Split('|', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : [];
            if (type.Length == 0 || actions.Length == 0)
            {
                error = $"'{entry}' is not of the form event_type:action|action";
                return null;
            }

            if (!WebhookForges.SupportedEvents.Contains(type))
            {
                error = $"'{type}' is not a supported event type";
                return null;
            }

            if (map.ContainsKey(type))
            {
                error = $"'{type}' is listed twice";
                return null;
            }

            map[type] = actions.ToHashSet(StringComparer.Ordinal);
        }

        error = "";
        return map;
    }

    public IEnumerable<string> Validate()
    {
        foreach (var e in EventSet.Where(e => !WebhookForges.SupportedEvents.Contains(e)))
        {
            yield return $"{Section}:Events: '{e}' is not supported (supported: {string.Join(", ", WebhookForges.SupportedEvents)})";
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

        if (Refs is not null && EventFilter.TryCompileWholeRef(Refs, out var wholeRefsError) is null)
        {
            yield return $"{Section}:Refs: {wholeRefsError}";
        }

        if (ParseActions(Actions, out var actionsError) is null)
        {
            yield return $"{Section}:Actions: {actionsError}";
        }
    }
}

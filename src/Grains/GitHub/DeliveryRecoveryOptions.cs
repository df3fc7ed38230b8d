using System.Globalization;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.GitHub;

/// <summary>
/// Recovery of deliveries the service missed: <c>GitHub:RecoverDeliveries</c> (on by default with an
/// App), <c>GitHub:RecoveryInterval</c>, and in token mode the hooks to scan, <c>GitHub:RecoverHooks</c>
/// (<c>owner/repo:hookId</c>, comma-separated).
/// </summary>
public sealed class DeliveryRecoveryOptions
{
    public bool? RecoverDeliveries { get; set; }

    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromMinutes(5);

    public string? RecoverHooks { get; set; }

    /// <summary>
    /// The event types the gateway handles (its <c>Handler:Events</c>, which this assembly cannot see): only
    /// their deliveries are worth asking for again. The host that runs both sets it from the gateway's options.
    /// </summary>
    public IReadOnlySet<string> HandledEvents { get; set; } = new HashSet<string>(StringComparer.Ordinal);

    public IReadOnlyList<(string Repository, long HookId)> Hooks =>
        [.. OptionsValidation.SplitList(RecoverHooks).Select(Parse).OfType<(string, long)>()];

    /// <summary>Whether to scan: as configured, else with an App or with hooks to scan.</summary>
    public bool Enabled(bool isApp) => RecoverDeliveries ?? (isApp || Hooks.Count > 0);

    public IEnumerable<string> Validate(bool isApp)
    {
        const string Section = GitHubOptions.Section;
        foreach (var entry in OptionsValidation.SplitList(RecoverHooks).Where(e => Parse(e) is null))
        {
            yield return $"{Section}:RecoverHooks: '{entry}' is not owner/repo:hookId";
        }

        if (RecoveryInterval < TimeSpan.FromSeconds(1))
        {
            yield return $"{Section}:RecoveryInterval: must be at least 1 second (was {RecoveryInterval})";
        }

        // A scan reads back to the previous one less the overlap; further back GitHub no longer has the deliveries.
        if (RecoveryInterval > RequestedRedeliveries.Window - DeliveryRecoveryGrain.Overlap)
        {
            yield return $"{Section}:RecoveryInterval: must be at most {RequestedRedeliveries.Window - DeliveryRecoveryGrain.Overlap}, " +
                $"GitHub's {RequestedRedeliveries.Window.TotalDays:0} days of redeliverable deliveries less the scans' overlap (was {RecoveryInterval})";
        }

        if (RecoverDeliveries == true && !isApp && string.IsNullOrWhiteSpace(RecoverHooks))
        {
            yield return $"{Section}:RecoverHooks: name the hooks to scan (owner/repo:hookId) for {Section}:RecoverDeliveries=true without a GitHub App";
        }
    }

    private static (string, long)? Parse(string entry)
    {
        var colon = entry.LastIndexOf(':');
        return colon > 0 && Names.IsRepository(entry[..colon])
            && long.TryParse(entry[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
            ? (entry[..colon], id)
            : null;
    }
}

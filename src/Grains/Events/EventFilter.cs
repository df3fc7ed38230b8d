using System.Text.RegularExpressions;

namespace CiTrigger.Grains.Events;

/// <summary>
/// The configured filters. Patterns run against untrusted refs and names, so they are compiled with the
/// non-backtracking engine: matching time stays linear whatever the pattern and the input.
/// </summary>
public sealed class EventFilter
{
    private readonly IReadOnlySet<string> events;
    private readonly Regex? ignoreRefs;
    private readonly Regex? repositories;

    public EventFilter(HandlerOptions options, long? ownApp = null)
    {
        OwnApp = ownApp;
        events = options.EventSet;
        ignoreRefs = options.IgnoreRefs is { } i ? TryCompile(i, out _) : null;
        repositories = options.Repositories is { } r ? TryCompile(r, out _) : null;
    }

    public static Regex? TryCompile(string pattern, out string error)
    {
        try
        {
            error = "";
            return new Regex(pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            error = $"'{pattern}' is not a usable regular expression: {e.Message}";
            return null;
        }
    }

    /// <summary>In App mode the App's id, whose own check runs never trigger runs.</summary>
    public long? OwnApp { get; }

    public bool HandlesEventType(string eventType) => events.Contains(eventType);

    /// <summary>Why an event for this repository and ref is ignored, or null when it is handled.</summary>
    public string? IgnoreReason(string repository, string gitRef)
    {
        if (repositories is not null && !repositories.IsMatch(repository))
        {
            return $"repository '{repository}' does not match Handler:Repositories";
        }

        return ignoreRefs is not null && ignoreRefs.IsMatch(gitRef)
            ? $"ref '{gitRef}' matches Handler:IgnoreRefs"
            : null;
    }
}

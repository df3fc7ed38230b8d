using System.Text.RegularExpressions;

namespace CiTrigger.Gateway.Events;

/// <summary>
/// The configured filters. Patterns run against untrusted refs and names, so they are compiled with the
/// non-backtracking engine: matching time stays linear whatever the pattern and the input.
/// <c>Handler:IgnoreRefs</c> is searched for anywhere in the ref; <c>Handler:Repositories</c> must match
/// the whole <c>owner/name</c>, in any case, as GitHub treats names (<c>octo/app</c> does not admit <c>octo/app-x</c>).
/// </summary>
public sealed class EventFilter
{
    private readonly IReadOnlySet<string> events;
    private readonly Regex? ignoreRefs;
    private readonly Regex? repositories;

    public EventFilter(FilterOptions options, long? ownApp = null)
    {
        OwnApp = ownApp;
        events = options.EventSet;
        ignoreRefs = options.IgnoreRefs is { } i ? TryCompile(i, out _) : null;
        repositories = options.Repositories is { } r ? TryCompileWholeName(r, out _) : null;
    }

    public static Regex? TryCompile(string pattern, out string error) => TryCompile(pattern, RegexOptions.None, out error);

    /// <summary>
    /// The pattern anchored at both ends ("\z": "$" would admit a trailing "\n") and case-insensitive. It is
    /// compiled alone first, so that a pattern such as <c>a)|(.*</c> cannot escape the anchors it is wrapped in.
    /// </summary>
    public static Regex? TryCompileWholeName(string pattern, out string error) =>
        TryCompile(pattern, RegexOptions.None, out error) is null ? null
            : TryCompile($@"^(?:{pattern})\z", RegexOptions.IgnoreCase, out error);

    private static Regex? TryCompile(string pattern, RegexOptions options, out string error)
    {
        try
        {
            error = "";
            return new Regex(pattern, options | RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
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

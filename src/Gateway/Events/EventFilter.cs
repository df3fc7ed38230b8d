using System.Text.RegularExpressions;
using CiTrigger.Grains.Abstractions;

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
    private readonly Regex? refs;
    private readonly IReadOnlyDictionary<string, IReadOnlySet<string>> actions;

    public EventFilter(FilterOptions options)
    {
        events = options.EventSet;
        ignoreRefs = options.IgnoreRefs is { } i ? TryCompile(i, out _) : null;
        repositories = options.Repositories is { } r ? TryCompileWholeName(r, out _) : null;
        refs = options.Refs is { } f ? TryCompileWholeRef(f, out _) : null;
        actions = options.ActionMap ?? new Dictionary<string, IReadOnlySet<string>>();
    }

    /// <summary>As <see cref="TryCompileWholeName"/>, but case-sensitive, as git refs are.</summary>
    public static Regex? TryCompileWholeRef(string pattern, out string error) =>
        TryCompile(pattern, RegexOptions.None, out error) is null ? null
            : TryCompile($@"^(?:{pattern})\z", RegexOptions.None, out error);

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

    public bool HandlesEventType(string eventType) => events.Contains(eventType);

    /// <summary>Why an event for this repository and ref is ignored, or null when it is handled.</summary>
    public string? IgnoreReason(string repository, string gitRef)
    {
        if (repositories is not null && !repositories.IsMatch(repository))
        {
            return $"repository '{repository}' does not match Handler:Repositories";
        }

        if (refs is not null && !refs.IsMatch(gitRef))
        {
            return $"ref '{gitRef}' does not match Handler:Refs";
        }

        return ignoreRefs is not null && ignoreRefs.IsMatch(gitRef)
            ? $"ref '{gitRef}' matches Handler:IgnoreRefs"
            : null;
    }

    /// <summary>
    /// Why the event's action is ignored (Handler:Actions), or null when it is handled. Commands (an approval,
    /// a re-test) are not actions of the list: they act on events the list admitted.
    /// </summary>
    public string? ActionIgnoreReason(HookEvent e) => e.IsCommand ? null : ActionIgnoreReason(e.EventType, e.Action);

    /// <summary>Why this action of the event type is ignored (Handler:Actions), or null when it is handled.</summary>
    public string? ActionIgnoreReason(string eventType, string action) =>
        actions.TryGetValue(eventType, out var handled) && !handled.Contains(action)
            ? $"action '{action}' of '{eventType}' is not in Handler:Actions"
            : null;
}

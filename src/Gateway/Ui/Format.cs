using System.Globalization;
using CiTrigger.Gateway.Forges.GitHub;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Gateway.Ui;

/// <summary>How values read on the page: times, durations, states, refs, revisions, applied objects.</summary>
public static class Format
{
    public static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>A moment as its age, with the exact time for the curious and for machines.</summary>
    public static Html Time(DateTimeOffset at, DateTimeOffset now) =>
        Html.Of($"<time datetime=\"{at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}\" title=\"{Iso(at)}\">{Ago(now - at)}</time>");

    public static string Ago(TimeSpan age) => age < TimeSpan.FromSeconds(1) ? "just now" : Duration(age) + " ago";

    public static string Duration(TimeSpan span) => span switch
    {
        { TotalSeconds: < 0 } => "0 s",
        { TotalSeconds: < 1 } => $"{span.TotalMilliseconds:0} ms",
        { TotalMinutes: < 1 } => $"{span.TotalSeconds:0.#} s",
        { TotalHours: < 1 } => $"{span.Minutes} min {span.Seconds} s",
        { TotalDays: < 1 } => $"{span.Hours} h {span.Minutes} min",
        _ => $"{(int)span.TotalDays} d {span.Hours} h",
    };

    /// <summary>A state as a badge: words, not only a colour.</summary>
    public static Html State(string state) => Html.Of($"<span class=\"state state-{state}\">{Label(state)}</span>");

    public static string Label(string state) => state == EventStates.WaitingForApproval ? "waiting for approval" : state.Replace('-', ' ');

    /// <summary>A ref as people say it: the branch name, "tag v1", "PR #12".</summary>
    public static string Ref(string gitRef) => gitRef switch
    {
        _ when gitRef.StartsWith("refs/heads/", StringComparison.Ordinal) => gitRef["refs/heads/".Length..],
        _ when gitRef.StartsWith("refs/tags/", StringComparison.Ordinal) => "tag " + gitRef["refs/tags/".Length..],
        _ when PullRequest(gitRef) is { } number => "PR #" + number,
        _ => gitRef,
    };

    /// <summary>A long id cut to its first characters, which are enough to tell recent ones apart.</summary>
    public static string Abbreviated(string id) => id.Length > 12 ? id[..8] + "…" : id;

    public static string Event(string eventType, string action) => action.Length == 0 ? eventType : $"{eventType} ({action})";

    /// <summary>The first seven characters of a revision, linked to the commit when it is one.</summary>
    public static Html Revision(GitHubLinks links, string repository, string revision)
    {
        if (revision.Length == 0)
        {
            return Html.Of($"<span class=\"muted\">none</span>");
        }

        var text = revision.Length > 7 ? revision[..7] : revision;
        return links.Commit(repository, revision) is { } commit
            ? Html.Of($"<a class=\"sha\" href=\"{commit.AbsoluteUri}\" title=\"{revision}\">{text}</a>")
            : Html.Of($"<span class=\"sha\" title=\"{revision}\">{text}</span>");
    }

    /// <summary>An applied object as "Kind name", linked through <c>GitHub:StatusTargetUrl</c> when that is set.</summary>
    public static Html Applied(AppliedObject applied, Uri? target) => target is null
        ? Html.Of($"{applied.Kind} {applied.Name}")
        : Html.Of($"<a href=\"{target.AbsoluteUri}\">{applied.Kind} {applied.Name}</a>");

    private static string? PullRequest(string gitRef) =>
        gitRef.Split('/') is ["refs", "pull", var number, "head" or "merge"] && number.All(char.IsAsciiDigit) ? number : null;
}

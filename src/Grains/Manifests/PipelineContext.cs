using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Manifests;

/// <summary>
/// What a pipeline's rules (<see cref="PipelineRules"/>) are checked against. <see cref="Branch"/> is a push's branch,
/// or a pull request's base branch, without <c>refs/heads/</c>; <see cref="Tag"/> a pushed tag without <c>refs/tags/</c>;
/// <see cref="ChangedFiles"/> null when they are not known (then no path rule skips anything); <see cref="CommentLine"/>
/// the first line of a trusted comment, only for a comment event.
/// </summary>
public sealed record PipelineContext(
    string EventType,
    string Action,
    string? Branch,
    string? Tag,
    IReadOnlyList<string>? ChangedFiles,
    IReadOnlyList<string> Labels,
    string? CommentLine)
{
    private const string Heads = "refs/heads/";
    private const string Tags = "refs/tags/";

    /// <summary>
    /// The context of an event. <paramref name="changedFiles"/> is passed apart from the event because the processor
    /// may have asked the forge for them when the payload did not list them (<see cref="HookEvent.ChangedFiles"/> null).
    /// A pull request's events (and comments on one) name its base branch (<see cref="HookEvent.BaseRef"/>,
    /// <c>refs/heads/NAME</c>), any other event the branch or tag of its ref.
    /// </summary>
    public static PipelineContext From(HookEvent e, IReadOnlyList<string>? changedFiles)
    {
        ArgumentNullException.ThrowIfNull(e);
        var pullRequest = e.PullRequest > 0;
        var branch = pullRequest ? Strip(e.BaseRef, Heads) : Strip(e.Ref, Heads);
        var tag = pullRequest ? null : Strip(e.Ref, Tags);
        return new PipelineContext(e.EventType, e.Action ?? "", branch, tag, changedFiles, e.Labels ?? [], e.CommentLine);
    }

    private static string? Strip(string? gitRef, string prefix) =>
        gitRef is not null && gitRef.Length > prefix.Length && gitRef.StartsWith(prefix, StringComparison.Ordinal) ? gitRef[prefix.Length..] : null;
}

using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CiTrigger.Grains.Pipeline;

namespace CiTrigger.Grains.Manifests;

/// <summary>
/// When a pipeline runs: the <c>on-*</c> annotations of its first document (<see cref="ManifestAnnotator.Prefix"/>), each a
/// comma-separated list (items trimmed, empty ones ignored) but <c>on-comment</c>, a regular expression. An absent
/// annotation matches any event; all present ones must hold (<see cref="Mismatch"/>). A comment event runs only the
/// pipelines with <c>on-comment</c>, and those run only on comments. The annotations come from the repository, so an
/// unknown <c>on-*</c> key, a value that is no string, an empty list or an invalid expression is an error of the pipeline
/// (<see cref="ManifestException"/>) rather than a rule that silently matches everything or nothing.
/// </summary>
public sealed class PipelineRules
{
    public const string OnEvent = ManifestAnnotator.Prefix + "on-event";
    public const string OnBranch = ManifestAnnotator.Prefix + "on-branch";
    public const string OnTag = ManifestAnnotator.Prefix + "on-tag";
    public const string OnPathChange = ManifestAnnotator.Prefix + "on-path-change";
    public const string OnPathChangeIgnore = ManifestAnnotator.Prefix + "on-path-change-ignore";
    public const string OnLabel = ManifestAnnotator.Prefix + "on-label";
    public const string OnComment = ManifestAnnotator.Prefix + "on-comment";

    /// <summary>The most items one annotation may list.</summary>
    public const int MaxItems = 100;

    /// <summary>The longest item (a glob, a label, an event) and the longest <c>on-comment</c> expression.</summary>
    public const int MaxItemLength = 1000;

    /// <summary>How long one <c>on-comment</c> match may take; a non-backtracking expression never comes near it.</summary>
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);

    private const string RulePrefix = ManifestAnnotator.Prefix + "on-";

    private static readonly string[] Known = [OnEvent, OnBranch, OnTag, OnPathChange, OnPathChangeIgnore, OnLabel, OnComment];

    private readonly IReadOnlyList<string>? events;
    private readonly IReadOnlyList<string>? branches;
    private readonly IReadOnlyList<string>? tags;
    private readonly IReadOnlyList<string>? paths;
    private readonly IReadOnlyList<string>? pathsIgnore;
    private readonly IReadOnlyList<string>? labels;
    private readonly Regex? comment;

    private PipelineRules(
        IReadOnlyList<string>? events, IReadOnlyList<string>? branches, IReadOnlyList<string>? tags, IReadOnlyList<string>? paths,
        IReadOnlyList<string>? pathsIgnore, IReadOnlyList<string>? labels, Regex? comment)
    {
        this.events = events;
        this.branches = branches;
        this.tags = tags;
        this.paths = paths;
        this.pathsIgnore = pathsIgnore;
        this.labels = labels;
        this.comment = comment;
    }

    /// <summary>No rules: every event the service handles but comments.</summary>
    public static PipelineRules Any { get; } = new(null, null, null, null, null, null, null);

    /// <summary>True when the pipeline has <c>on-comment</c>: it runs on comments, and only on them.</summary>
    public bool HasCommentRule => comment is not null;

    /// <summary>True when a path rule needs the event's changed files (asked of the forge only then).</summary>
    public bool NeedsChangedFiles => paths is not null || pathsIgnore is not null;

    /// <summary>
    /// The rules of a pipeline's first document (its <c>metadata.annotations</c>, which may be missing). Throws
    /// <see cref="ManifestException"/> naming the annotation whose value cannot be a rule.
    /// </summary>
    public static PipelineRules Parse(JsonObject firstDocument)
    {
        ArgumentNullException.ThrowIfNull(firstDocument);
        if (Annotations(firstDocument) is not { } annotations)
        {
            return Any;
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, node) in annotations)
        {
            if (!key.StartsWith(RulePrefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!Known.Contains(key, StringComparer.Ordinal))
            {
                throw new ManifestException(
                    $"the annotation '{Shorten(key)}' is not a pipeline rule (known: {string.Join(", ", Known)})");
            }

            values[key] = node is JsonValue value && value.GetValueKind() == JsonValueKind.String
                ? value.GetValue<string>()
                : throw new ManifestException($"the annotation '{key}' must be a string, not {node?.GetValueKind().ToString() ?? "null"}");
        }

        return new PipelineRules(
            Events(values), List(values, OnBranch), List(values, OnTag), List(values, OnPathChange), List(values, OnPathChangeIgnore),
            List(values, OnLabel), Comment(values));
    }

    /// <summary>Null when every rule holds for <paramref name="context"/>, else why not, naming the first rule that does not.</summary>
    public string? Mismatch(PipelineContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.CommentLine is null && comment is not null)
        {
            return $"on-comment: {Describe(context)} is not a comment";
        }

        if (context.CommentLine is not null && comment is null)
        {
            return "on-comment: a comment runs only pipelines that have this rule";
        }

        return EventMismatch(context)
            ?? RefMismatch("on-branch", branches, context.Branch, "the event is on no branch")
            ?? RefMismatch("on-tag", tags, context.Tag, "the event pushes no tag")
            ?? PathMismatch(context.ChangedFiles)
            ?? LabelMismatch(context.Labels)
            ?? CommentMismatch(context.CommentLine);
    }

    private string? EventMismatch(PipelineContext context)
    {
        if (events is null)
        {
            return null;
        }

        foreach (var item in events)
        {
            var colon = item.IndexOf(':', StringComparison.Ordinal);
            var matches = colon < 0
                ? item == context.EventType
                : item.AsSpan(0, colon).SequenceEqual(context.EventType) && item.AsSpan(colon + 1).SequenceEqual(context.Action);
            if (matches)
            {
                return null;
            }
        }

        return $"on-event: {Describe(context)} is not {Join(events)}";
    }

    private static string? RefMismatch(string rule, IReadOnlyList<string>? globs, string? name, string none) =>
        globs is null ? null
        : name is null ? $"{rule}: {none}"
        : globs.Any(g => Glob.IsMatch(g, name)) ? null
        : $"{rule}: {Shorten(name)} is not {Join(globs)}";

    private string? PathMismatch(IReadOnlyList<string>? changed)
    {
        // Unknown changed files never skip a pipeline: the rules hold rather than guess.
        if (changed is null)
        {
            return null;
        }

        if (paths is not null && !changed.Any(file => paths.Any(g => Glob.IsMatch(g, file))))
        {
            return $"on-path-change: no changed file matches {Join(paths)}";
        }

        if (pathsIgnore is not null && changed.All(file => pathsIgnore.Any(g => Glob.IsMatch(g, file))))
        {
            return changed.Count == 0
                ? "on-path-change-ignore: no file changed"
                : $"on-path-change-ignore: every changed file matches {Join(pathsIgnore)}";
        }

        return null;
    }

    private string? LabelMismatch(IReadOnlyList<string> carried) =>
        labels is null || labels.Any(l => carried.Contains(l, StringComparer.OrdinalIgnoreCase))
            ? null
            : $"on-label: the pull request carries none of {Join(labels)}";

    private string? CommentMismatch(string? line)
    {
        if (comment is null || line is null)
        {
            return null;
        }

        try
        {
            return comment.IsMatch(line) ? null : $"on-comment: the comment does not match {Shorten(comment.ToString())}";
        }
        catch (RegexMatchTimeoutException)
        {
            return $"on-comment: matching {Shorten(comment.ToString())} took longer than {MatchTimeout.TotalSeconds:0} s";
        }
    }

    private static JsonObject? Annotations(JsonObject document)
    {
        if (!document.TryGetPropertyValue("metadata", out var metadata) || metadata is null)
        {
            return null;
        }

        if (metadata is not JsonObject m)
        {
            throw new ManifestException("the pipeline's first document has a 'metadata' that is not a map");
        }

        return !m.TryGetPropertyValue("annotations", out var annotations) || annotations is null ? null
            : annotations as JsonObject ?? throw new ManifestException("the pipeline's first document has 'metadata.annotations' that are not a map");
    }

    private static List<string>? List(Dictionary<string, string> values, string key)
    {
        if (!values.TryGetValue(key, out var value))
        {
            return null;
        }

        var items = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (items.Length == 0)
        {
            throw new ManifestException($"the annotation '{key}' lists nothing (leave it out to match any event)");
        }

        if (items.Length > MaxItems)
        {
            throw new ManifestException($"the annotation '{key}' lists {items.Length} items, more than {MaxItems}");
        }

        return items.FirstOrDefault(i => i.Length > MaxItemLength) is { } longItem
            ? throw new ManifestException($"the annotation '{key}' has an item longer than {MaxItemLength} characters: '{Shorten(longItem)}'")
            : [.. items];
    }

    private static List<string>? Events(Dictionary<string, string> values)
    {
        var items = List(values, OnEvent);
        foreach (var item in items ?? [])
        {
            var parts = item.Split(':');
            if (parts.Length > 2 || parts.Any(p => p.Length == 0 || !p.All(c => c is (>= 'a' and <= 'z') or '_')))
            {
                throw new ManifestException($"the annotation '{OnEvent}' has '{Shorten(item)}', which is neither 'event' nor 'event:action'");
            }
        }

        return items;
    }

    private static Regex? Comment(Dictionary<string, string> values)
    {
        if (!values.TryGetValue(OnComment, out var value))
        {
            return null;
        }

        var pattern = value.Trim();
        if (pattern.Length == 0 || pattern.Length > MaxItemLength)
        {
            throw new ManifestException($"the annotation '{OnComment}' must be a regular expression of 1 to {MaxItemLength} characters");
        }

        try
        {
            // From a repository file: never backtracking, so no expression can make a match take long.
            return new Regex(pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant, MatchTimeout);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw new ManifestException($"the annotation '{OnComment}' is not a usable regular expression: {e.Message}");
        }
    }

    private static string Describe(PipelineContext context) =>
        context.Action.Length == 0 ? context.EventType : $"{context.EventType}:{context.Action}";

    private static string Join(IReadOnlyList<string> items) => Shorten(string.Join(", ", items));

    // Reasons are shown on checks and pages: a long value from a repository file is cut.
    private static string Shorten(string value) => value.Length <= 200 ? value : string.Concat(value.AsSpan(0, 200), "…");
}

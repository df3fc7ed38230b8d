namespace CiTrigger.Grains.Abstractions;

/// <summary>
/// <c>GitHub:StatusTargetUrl</c> with its placeholders filled in: the link of an event's commit status,
/// and the status page's link to what the event applied (e.g. the Argo UI of its Workflow).
/// </summary>
public static class StatusTargetUrl
{
    public static string? Expand(string? template, string delivery, string key, string repository, string gitRef, string revision, AppliedObject? first) => template?
        .Replace("{delivery}", delivery, StringComparison.Ordinal)
        .Replace("{key}", key, StringComparison.Ordinal)
        .Replace("{repository}", repository, StringComparison.Ordinal)
        .Replace("{ref}", gitRef, StringComparison.Ordinal)
        .Replace("{revision}", revision, StringComparison.Ordinal)
        .Replace("{namespace}", first?.Namespace ?? "", StringComparison.Ordinal)
        .Replace("{name}", first?.Name ?? "", StringComparison.Ordinal);
}

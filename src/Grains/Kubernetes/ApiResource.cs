namespace CiTrigger.Grains.Kubernetes;

/// <summary>Where objects of one kind live in the API: group, version, plural resource name, scope.</summary>
public sealed record ApiResource(string Group, string Version, string Plural, string Kind, bool Namespaced)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>The collection's path relative to the server's base address.</summary>
    public string Path(string? @namespace) =>
        (Group.Length == 0 ? $"api/{Version}" : $"apis/{Group}/{Version}") + (@namespace is null ? "" : $"/namespaces/{@namespace}") + $"/{Plural}";

    /// <summary>The API group of an apiVersion: <c>batch</c> of <c>batch/v1</c>, empty for the core group's <c>v1</c>.</summary>
    public static string GroupOf(string apiVersion) =>
        apiVersion.IndexOf('/', StringComparison.Ordinal) is var slash and > 0 ? apiVersion[..slash] : "";

    /// <summary>The version of an apiVersion: <c>v1</c> of <c>batch/v1</c> and of the core group's <c>v1</c>.</summary>
    public static string VersionOf(string apiVersion) => apiVersion[(apiVersion.IndexOf('/', StringComparison.Ordinal) + 1)..];
}

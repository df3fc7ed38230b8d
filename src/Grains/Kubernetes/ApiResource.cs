namespace CiTrigger.Grains.Kubernetes;

/// <summary>Where objects of one kind live in the API: group, version, plural resource name, scope.</summary>
public sealed record ApiResource(string Group, string Version, string Plural, string Kind, bool Namespaced)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>The collection's path relative to the server's base address.</summary>
    public string Path(string? @namespace) =>
        (Group.Length == 0 ? $"api/{Version}" : $"apis/{Group}/{Version}") + (@namespace is null ? "" : $"/namespaces/{@namespace}") + $"/{Plural}";
}

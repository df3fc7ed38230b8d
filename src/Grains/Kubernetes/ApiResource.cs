namespace CiTrigger.Grains.Kubernetes;

/// <summary>Where objects of one kind live in the API: group, version, plural resource name, scope.</summary>
public sealed record ApiResource(string Group, string Version, string Plural, string Kind, bool Namespaced);

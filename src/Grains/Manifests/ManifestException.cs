namespace CiTrigger.Grains.Manifests;

/// <summary>A manifest that can never be applied as it is: invalid YAML, over a limit, or refused by policy.</summary>
public sealed class ManifestException(string message) : Exception(message);

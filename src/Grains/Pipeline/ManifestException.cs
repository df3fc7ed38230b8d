namespace CiTrigger.Grains.Pipeline;

/// <summary>A manifest that can never be applied as it is: missing, invalid YAML, over a limit, or refused by policy or the API server.</summary>
public sealed class ManifestException(string message) : PermanentException(message);

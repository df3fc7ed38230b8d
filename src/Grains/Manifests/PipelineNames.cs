using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Manifests;

/// <summary>
/// A pipeline is a <c>*.yaml</c> or <c>*.yml</c> file directly in <c>.ci/</c>, named by its file name without the
/// extension. The name rule itself is <see cref="Names.IsPipeline"/>, which the gateway checks <c>/test NAME</c> by too.
/// </summary>
public static class PipelineNames
{
    /// <summary>
    /// The pipeline name of a file name (no directory) that ends in <c>.yaml</c> or <c>.yml</c>: false for any other
    /// file, which is not a pipeline (not an error). The name may still be invalid: check it with <see cref="Names.IsPipeline"/>.
    /// </summary>
    public static bool TryFromFileName(string fileName, out string name)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        foreach (var extension in (ReadOnlySpan<string>)[".yaml", ".yml"])
        {
            if (fileName.Length > extension.Length && fileName.EndsWith(extension, StringComparison.Ordinal))
            {
                name = fileName[..^extension.Length];
                return true;
            }
        }

        name = "";
        return false;
    }
}

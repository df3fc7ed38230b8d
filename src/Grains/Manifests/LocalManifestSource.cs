using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.Manifests;

/// <summary>
/// Reads every manifest from a directory of this machine (<c>Handler:LocalManifests</c>) instead of from
/// GitHub: <c>{directory}/{Handler:ManifestPath}</c>, the same file whatever the forge, repository and revision.
/// For a first trial without a repository, and for trying a manifest against the running service. The file
/// is untrusted input as GitHub's is: read only up to <c>Handler:MaxManifestBytes</c>, and only inside the directory.
/// </summary>
public sealed partial class LocalManifestSource(IOptions<ManifestOptions> options, ILogger<LocalManifestSource> logger) : IManifestSource, IHostedService
{
    public Task<IReadOnlyList<PipelineFile>?> ListAsync(ManifestFile directory, CancellationToken cancellationToken) =>
        throw new NotSupportedException("listing comes next");

    public Task<byte[]> GetBlobAsync(ManifestFile file, string blobSha, CancellationToken cancellationToken) =>
        throw new NotSupportedException("blobs come next");

    public async Task<byte[]> GetAsync(ManifestFile file, CancellationToken cancellationToken)
    {
        var path = file.Path;
        var manifest = options.Value;
        var directory = Path.GetFullPath(manifest.LocalManifests!);
        var local = Path.GetFullPath(Path.Combine(directory, path));
        if (!local.StartsWith(Path.TrimEndingDirectorySeparator(directory) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ManifestException($"{path} leads outside the local manifest directory {directory}");
        }

        try
        {
            var limit = manifest.MaxManifestBytes;
            return await BoundedFile.ReadAsync(local, limit, size => new ManifestException(size is { } bytes
                ? $"the file has {bytes} bytes, more than the limit of {limit}"
                : $"the file has more than the limit of {limit} bytes"), cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ManifestException($"{path} was not found in the local manifest directory {directory} ({ManifestOptions.Section}:LocalManifests)");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ManifestException($"{local} cannot be read: {e.Message}");
        }
        catch (IOException e)
        {
            throw new TransientException($"{local} could not be read: {e.Message}", e);
        }
    }

    /// <summary>Says at start-up where manifests come from, so nobody wonders why GitHub is not asked.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var manifest = options.Value;
        Log.Reading(logger, Path.GetFullPath(Path.Combine(manifest.LocalManifests!, manifest.ManifestPath ?? manifest.PipelineDirectory)));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(21, LogLevel.Warning, "Manifests are read from {File} for every repository and revision (Handler:LocalManifests), not from GitHub")]
        public static partial void Reading(ILogger logger, string file);
    }
}

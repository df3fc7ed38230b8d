using System.Collections.Concurrent;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.Manifests;

/// <summary>
/// Reads every manifest from a directory of this machine (<c>Handler:LocalManifests</c>) instead of from
/// GitHub: <c>{directory}/{Handler:ManifestPath}</c>, the same file whatever the forge, repository and revision, and
/// a pipeline directory's files listed with their git blob ids (the ids GitHub gives the same bytes).
/// For a first trial without a repository, and for trying a manifest against the running service. The file
/// is untrusted input as GitHub's is: read only up to <c>Handler:MaxManifestBytes</c>, and only inside the directory.
/// </summary>
public sealed partial class LocalManifestSource(IOptions<ManifestOptions> options, ILogger<LocalManifestSource> logger) : IManifestSource, IHostedService
{
    // The files of the last listings by blob id, for GetBlobAsync; cleared when it grows past a few directories' worth.
    private const int MaxRemembered = 1_000;
    private readonly ConcurrentDictionary<string, string> listed = new(StringComparer.Ordinal);

    /// <summary>
    /// The regular files directly in <c>{LocalManifests}/{directory}</c> (no subdirectories, no symbolic links: GitHub
    /// lists those as other types) with the git blob id of their content, as GitHub would list them.
    /// </summary>
    public async Task<IReadOnlyList<PipelineFile>?> ListAsync(ManifestFile directory, CancellationToken cancellationToken)
    {
        var path = directory.Path.Trim('/');
        var (root, local) = Inside(path, allowRoot: true);
        try
        {
            if (!Directory.Exists(local))
            {
                return File.Exists(local)
                    ? throw new ManifestException($"{path} is a file, not a directory, in the local manifest directory {root}")
                    : null;
            }

            var files = new List<PipelineFile>();
            foreach (var info in new DirectoryInfo(local).EnumerateFiles().Where(f => f.LinkTarget is null).OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                var id = await HashAsync(info, cancellationToken);
                if (listed.Count >= MaxRemembered)
                {
                    listed.Clear();
                }

                listed[id] = info.FullName;
                files.Add(new PipelineFile(info.Name, path.Length == 0 ? info.Name : $"{path}/{info.Name}", id, info.Length));
            }

            return files;
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ManifestException($"{local} cannot be read: {e.Message}");
        }
        catch (Exception e) when (e is IOException and not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new TransientException($"{local} could not be listed: {e.Message}", e);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TransientException($"{local} changed while it was listed: {e.Message}", e);
        }
    }

    /// <summary>
    /// The file of a listing whose content is the blob <paramref name="blobSha"/>, read up to <c>Handler:MaxManifestBytes</c>;
    /// a blob no listing had is looked for in the directory of <see cref="ManifestFile.Path"/>.
    /// </summary>
    public async Task<byte[]> GetBlobAsync(ManifestFile file, string blobSha, CancellationToken cancellationToken)
    {
        if (!GitSha.IsValid(blobSha))
        {
            throw new ManifestException($"'{blobSha}' is not a git blob id (for {file.Path})");
        }

        for (var attempt = 0; attempt < 2; attempt++)
        {
            if (listed.TryGetValue(blobSha, out var local))
            {
                var content = await ReadAsync(file.Path, local, cancellationToken);
                if (GitBlobId.Matches(content, blobSha))
                {
                    return content;
                }

                // Changed since it was listed.
                listed.TryRemove(blobSha, out _);
            }

            if (attempt == 0)
            {
                var parent = file.Path.Trim('/');
                await ListAsync(file with { Path = parent.Contains('/', StringComparison.Ordinal) ? parent[..parent.LastIndexOf('/')] : "" }, cancellationToken);
            }
        }

        throw new ManifestException($"no file with the blob id {blobSha} ({file.Path}) is in the local manifest directory {Path.GetFullPath(options.Value.LocalManifests!)}");
    }

    public Task<byte[]> GetAsync(ManifestFile file, CancellationToken cancellationToken)
    {
        var (_, local) = Inside(file.Path, allowRoot: false);
        return ReadAsync(file.Path, local, cancellationToken);
    }

    /// <summary>The local directory, and where <paramref name="path"/> leads in it; refused when that is outside it.</summary>
    private (string Root, string Local) Inside(string path, bool allowRoot)
    {
        var directory = Path.GetFullPath(options.Value.LocalManifests!);
        var local = Path.GetFullPath(Path.Combine(directory, path));
        var root = Path.TrimEndingDirectorySeparator(directory);
        if (!local.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            && !(allowRoot && string.Equals(Path.TrimEndingDirectorySeparator(local), root, StringComparison.Ordinal)))
        {
            throw new ManifestException($"{path} leads outside the local manifest directory {directory}");
        }

        return (directory, local);
    }

    private async Task<byte[]> ReadAsync(string path, string local, CancellationToken cancellationToken)
    {
        var manifest = options.Value;
        var directory = Path.GetFullPath(manifest.LocalManifests!);
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

    /// <summary>The blob id of a file, hashed as it is read (a file over the manifest limit is listed too, never kept).</summary>
    private static async Task<string> HashAsync(FileInfo info, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(info.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 64 * 1024, useAsync: true);
        return await GitBlobId.OfAsync(stream, stream.Length, cancellationToken)
            ?? throw new IOException($"{info.FullName} changed while it was read");
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

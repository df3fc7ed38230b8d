using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using Octokit;

namespace CiTrigger.Grains.GitHub;

/// <summary>Reads a GitHub repository's file at a ref through the contents API's raw media type.</summary>
public sealed class GitHubManifestSource(GitHubAccess github) : IManifestSource
{
    public Task<IReadOnlyList<PipelineFile>?> ListAsync(ManifestFile directory, CancellationToken cancellationToken) =>
        throw new NotSupportedException("listing comes next");

    public Task<byte[]> GetBlobAsync(ManifestFile file, string blobSha, CancellationToken cancellationToken) =>
        throw new NotSupportedException("blobs come next");

    public async Task<byte[]> GetAsync(ManifestFile file, CancellationToken cancellationToken)
    {
        var (repository, path, gitRef, installation) = (file.Repository, file.Path, file.Revision, file.Installation);
        if (file.Forge != ForgeNames.GitHub)
        {
            throw new ManifestException($"{repository} is a repository of {file.Forge}, which GitHub's manifest source does not read");
        }

        var (owner, name) = Names.SplitRepository(repository);
        byte[]? content;
        try
        {
            var client = await github.ForRepositoryAsync(repository, installation, cancellationToken);

            // Octokit puts ref into the query string as it is; a branch named "a+b" or "x#y" must be escaped here.
            content = await client.Repository.Content
                .GetRawContentByRef(owner, name, EscapePath(path), Uri.EscapeDataString(gitRef))
                .WaitAsync(cancellationToken);
        }
        catch (NotFoundException)
        {
            throw new ManifestException($"{path} was not found in {repository} at {gitRef}");
        }
        catch (GitHubAppException e) when (e.Permanent)
        {
            throw new ManifestException(e.Message);
        }
        catch (GitHubAppException e)
        {
            throw new TransientException(e.Message, e);
        }
        catch (Exception e) when (GitHubFailures.Classify(e, $"to read {path} in {repository} at {gitRef}") is { } failure)
        {
            throw failure is PermanentException ? new ManifestException(failure.Message) : failure;
        }

        // Octokit returns null, not an error, when the answer is not of the raw media type (a proxy's
        // error page, say): that is no empty file.
        return content ?? throw new TransientException($"GitHub answered without raw content for {path} in {repository} at {gitRef}");
    }

    private static string EscapePath(string path) =>
        string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
}

using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Options;
using Octokit;

namespace CiTrigger.Grains.GitHub;

/// <summary>
/// Reads a GitHub repository's file at a ref through the contents API's raw media type, lists a directory at a
/// ref through the contents API's JSON, and reads a blob by its id through the Git database API's raw media type
/// (never more than <c>Handler:MaxManifestBytes</c>, and only when its bytes are that blob).
/// </summary>
public sealed class GitHubManifestSource(GitHubAccess github, IOptions<ManifestOptions>? options = null) : IManifestSource
{
    private int MaxBytes => options?.Value.MaxManifestBytes ?? ManifestLimits.Default.MaxBytes;

    public async Task<IReadOnlyList<PipelineFile>?> ListAsync(ManifestFile directory, CancellationToken cancellationToken)
    {
        var (repository, gitRef) = (directory.Repository, directory.Revision);
        var (owner, name) = Accept(directory);
        var path = directory.Path.Trim('/');

        // A plain request rather than Octokit's GetAllContentsByRef, whose 404 loses GitHub's message; Octokit puts a
        // single object (a file at the path) into a list of one. The ref is escaped here, as GetAsync escapes it.
        var uri = new Uri($"repos/{owner}/{name}/contents/{EscapePath(path)}?ref={Uri.EscapeDataString(gitRef)}", UriKind.Relative);
        IReadOnlyList<RepositoryContent> entries;
        try
        {
            entries = (await CallAsync(directory, $"to list {path} in {repository} at {gitRef}",
                client => client.Connection.Get<List<RepositoryContent>>(uri, null), cancellationToken)).Body ?? [];
        }
        catch (NotFoundException e) when (e.Message.StartsWith("No commit found", StringComparison.Ordinal))
        {
            // The revision is unknown, which is no missing directory: the event cannot be read at all.
            throw new ManifestException($"{gitRef} was not found in {repository}");
        }
        catch (NotFoundException)
        {
            return null;
        }

        // GitHub answers a file (or a symlink, a submodule) at the path with that one object, which Octokit hands
        // over as a list of one; a directory's entries are all below it.
        if (entries is [var only] && string.Equals(only.Path, path, StringComparison.Ordinal))
        {
            throw new ManifestException($"{path} in {repository} at {gitRef} is a {only.Type.StringValue}, not a directory");
        }

        return [.. entries.Where(e => e.Type.StringValue == "file").Select(e => new PipelineFile(e.Name, e.Path, e.Sha, e.Size))];
    }

    public async Task<byte[]> GetBlobAsync(ManifestFile file, string blobSha, CancellationToken cancellationToken)
    {
        var (repository, path) = (file.Repository, file.Path);
        var (owner, name) = Accept(file);
        if (!GitSha.IsValid(blobSha))
        {
            throw new ManifestException($"'{blobSha}' is not a git blob id (for {path} in {repository})");
        }

        // The raw media type: the response is the blob's bytes, so the client's response limit (Handler:MaxManifestBytes)
        // refuses a larger blob by the Content-Length GitHub announces, before anything is read; base64 in JSON would
        // make the limit a third smaller than the file's.
        var uri = new Uri($"repos/{owner}/{name}/git/blobs/{blobSha}", UriKind.Relative);
        byte[]? content;
        try
        {
            content = (await CallAsync(file, $"to read {path} (blob {blobSha}) in {repository}",
                client => client.Connection.GetRaw(uri, null), cancellationToken)).Body;
        }
        catch (NotFoundException)
        {
            throw new ManifestException($"the blob {blobSha} of {path} was not found in {repository}");
        }

        if (content is null)
        {
            throw new TransientException($"GitHub answered without raw content for {path} (blob {blobSha}) in {repository}");
        }

        var limit = MaxBytes;
        if (content.Length > limit)
        {
            throw new ManifestException($"the file has {content.Length} bytes, more than the limit of {limit}");
        }

        return GitBlobId.Matches(content, blobSha)
            ? content
            : throw new ManifestException($"GitHub answered content for {path} in {repository} that is not the blob {blobSha}");
    }

    public async Task<byte[]> GetAsync(ManifestFile file, CancellationToken cancellationToken)
    {
        var (repository, path, gitRef) = (file.Repository, file.Path, file.Revision);
        var (owner, name) = Accept(file);
        byte[]? content;
        try
        {
            // Octokit puts ref into the query string as it is; a branch named "a+b" or "x#y" must be escaped here.
            content = await CallAsync(file, $"to read {path} in {repository} at {gitRef}",
                client => client.Repository.Content.GetRawContentByRef(owner, name, EscapePath(path), Uri.EscapeDataString(gitRef)), cancellationToken);
        }
        catch (NotFoundException)
        {
            throw new ManifestException($"{path} was not found in {repository} at {gitRef}");
        }

        // Octokit returns null, not an error, when the answer is not of the raw media type (a proxy's
        // error page, say): that is no empty file.
        return content ?? throw new TransientException($"GitHub answered without raw content for {path} in {repository} at {gitRef}");
    }

    /// <summary>The repository's owner and name, when it is GitHub's.</summary>
    private static (string Owner, string Name) Accept(ManifestFile file) => file.Forge == ForgeNames.GitHub
        ? Names.SplitRepository(file.Repository)
        : throw new ManifestException($"{file.Repository} is a repository of {file.Forge}, which GitHub's manifest source does not read");

    /// <summary>
    /// Calls GitHub with the repository's client; a 404 passes as <see cref="NotFoundException"/> for the caller to
    /// word, every other failure leaves classified: permanent ones as <see cref="ManifestException"/>s.
    /// </summary>
    private async Task<T> CallAsync<T>(ManifestFile file, string what, Func<IGitHubClient, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            var client = await github.ForRepositoryAsync(file.Repository, file.Installation, cancellationToken);
            return await call(client).WaitAsync(cancellationToken);
        }
        catch (NotFoundException)
        {
            throw;
        }
        catch (GitHubAppException e) when (e.Permanent)
        {
            throw new ManifestException(e.Message);
        }
        catch (GitHubAppException e)
        {
            throw new TransientException(e.Message, e);
        }
        catch (Exception e) when (GitHubFailures.Classify(e, what) is { } failure)
        {
            throw failure is PermanentException ? new ManifestException(failure.Message) : failure;
        }
    }

    private static string EscapePath(string path) =>
        string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
}

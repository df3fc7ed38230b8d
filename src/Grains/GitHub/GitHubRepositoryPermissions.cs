using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using Octokit;

namespace CiTrigger.Grains.GitHub;

/// <summary>
/// A user's permission through <c>GET /repos/{owner}/{repo}/collaborators/{username}/permission</c> (an installation
/// token needs the <c>metadata</c> read permission, which every App has). GitHub answers 404 for a user who is no
/// collaborator: that is the answer <c>none</c>, not a failure.
/// </summary>
public sealed class GitHubRepositoryPermissions(GitHubAccess github) : IRepositoryPermissions
{
    public async Task<string> PermissionAsync(string repository, string login, long? installation, CancellationToken cancellationToken)
    {
        var (owner, name) = Names.SplitRepository(repository);
        try
        {
            var client = await github.ForRepositoryAsync(repository, installation, cancellationToken);

            // Octokit puts the user into the path as it is; a bot's "[bot]" must be escaped here.
            var answer = await client.Repository.Collaborator
                .ReviewPermission(owner, name, Uri.EscapeDataString(login))
                .WaitAsync(cancellationToken);
            return answer.Permission is { Length: > 0 } permission
                ? permission
                : throw new PermanentException($"GitHub did not say what {login} may do in {repository}");
        }
        catch (NotFoundException)
        {
            return "none";
        }
        catch (Exception e) when (GitHubFailures.Classify(e, $"to say what {login} may do in {repository}") is { } failure)
        {
            throw failure;
        }
    }
}

namespace CiTrigger.Grains.Pipeline;

/// <summary>What a user may do in a repository, as GitHub says: whose word lets a pull request's head run.</summary>
public interface IRepositoryPermissions
{
    /// <summary>
    /// GitHub's permission of <paramref name="login"/> in <paramref name="repository"/>: <c>admin</c>, <c>write</c>,
    /// <c>read</c> or <c>none</c> (GitHub maps the maintain role to <c>write</c> and triage to <c>read</c>); <c>none</c>
    /// too for a user who is no collaborator. Throws <see cref="TransientException"/> when asking again may help,
    /// <see cref="PermanentException"/> when GitHub refuses to say.
    /// </summary>
    /// <param name="repository">The repository (<c>owner/name</c>).</param>
    /// <param name="login">The user.</param>
    /// <param name="installation">The GitHub App installation the event came from, if it said.</param>
    /// <param name="cancellationToken">The attempt's deadline.</param>
    Task<string> PermissionAsync(string repository, string login, long? installation, CancellationToken cancellationToken);
}

namespace CiTrigger.Grains.Abstractions;

/// <summary>
/// A repository as a whole (key: <see cref="RefKey.Repository"/>, the lower-cased <c>owner/repo</c> of GitHub). Holds the repository-wide pause that
/// every ref of the repository honours, including refs that receive their first event later.
/// </summary>
public interface IRepositoryGrain : IGrainWithStringKey
{
    /// <summary>Whether the repository is paused.</summary>
    Task<bool> IsPaused();

    /// <summary>Pauses or resumes the repository durably and tells its known refs at once.</summary>
    Task<AdminResult> SetPaused(bool paused);
}

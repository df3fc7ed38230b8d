using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Storage;

namespace CiTrigger.Grains.Processing;

[GenerateSerializer]
public sealed class RepositoryState
{
    [Id(0)] public bool Paused { get; set; }
}

/// <summary>The repository-wide pause: stored here, pushed to the refs the catalog knows, asked for by the others.</summary>
public sealed class RepositoryGrain(
    [PersistentState("repository", StorageNames.Refs)] IPersistentState<RepositoryState> state,
    IRefCatalog catalog) : Grain, IRepositoryGrain
{
    public Task<bool> IsPaused() => Task.FromResult(state.State.Paused);

    public async Task<AdminResult> SetPaused(bool paused)
    {
        state.State.Paused = paused;
        await state.WriteStateAsync();
        var repository = this.GetPrimaryKeyString();
        var told = 0;
        string? after = null;
        do
        {
            var page = await catalog.ListAsync(new RefQuery(null, repository, 500, after));
            await Task.WhenAll(page.Refs.Select(r => GrainFactory.GetGrain<IRefGrain>(r.Key).SetRepositoryPaused(paused)));
            told += page.Refs.Count;
            after = page.Next;
        }
        while (after is not null);

        return new AdminResult(true, $"{(paused ? "paused" : "resumed")} {repository} ({told} known refs)", null);
    }
}

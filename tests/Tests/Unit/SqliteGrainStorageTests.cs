using CiTrigger.Grains.Processing;
using CiTrigger.Grains.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Xunit;

namespace CiTrigger.Tests.Unit;

public sealed class SqliteGrainStorageTests : IAsyncLifetime
{
    private static readonly GrainId Grain = GrainId.Create("ref", "octo/app:refs/heads/main");

    private readonly ServiceProvider services = new ServiceCollection().AddSerializer().BuildServiceProvider();
    private SqliteStore store = null!;
    private SqliteGrainStorage storage = null!;

    public ValueTask InitializeAsync()
    {
        store = new SqliteStore(Path.Combine(Directory.CreateTempSubdirectory("citrigger-grain-storage-").FullName, "state.db"));
        storage = new SqliteGrainStorage(store, new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>()));
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await store.DisposeAsync();
        await services.DisposeAsync();
    }

    private async Task<GrainState<RefQueueIndex>> ReadAsync()
    {
        var state = new GrainState<RefQueueIndex>(new RefQueueIndex());
        await storage.ReadStateAsync("queue", Grain, state);
        return state;
    }

    private Task WriteAsync(GrainState<RefQueueIndex> state, long firstChunk)
    {
        state.State = state.State! with { FirstChunk = firstChunk };
        return storage.WriteStateAsync("queue", Grain, state);
    }

    [Fact]
    public async Task A_written_state_reads_back_with_its_etag()
    {
        var writer = await ReadAsync();
        Assert.False(writer.RecordExists);

        await WriteAsync(writer, 3);
        var reader = await ReadAsync();

        Assert.True(reader.RecordExists);
        Assert.Equal(3, reader.State!.FirstChunk);
        Assert.Equal(writer.ETag, reader.ETag);
    }

    [Fact]
    public async Task A_write_with_a_stale_etag_throws_and_leaves_the_newer_state_in_place()
    {
        var first = await ReadAsync();
        await WriteAsync(first, 1);
        var second = await ReadAsync();
        await WriteAsync(first, 2);
        var staleETag = second.ETag;

        await Assert.ThrowsAsync<InconsistentStateException>(() => WriteAsync(second, 99));
        var stored = await ReadAsync();

        Assert.Equal(2, stored.State!.FirstChunk);
        Assert.Equal(first.ETag, stored.ETag);
        Assert.Equal(staleETag, second.ETag);
    }

    [Fact]
    public async Task Inserting_a_record_that_already_exists_conflicts_instead_of_overwriting_it()
    {
        var first = await ReadAsync();
        var second = await ReadAsync();
        await WriteAsync(first, 1);

        await Assert.ThrowsAsync<InconsistentStateException>(() => WriteAsync(second, 99));

        Assert.Equal(1, (await ReadAsync()).State!.FirstChunk);
    }

    [Fact]
    public async Task Each_write_moves_the_etag_on_so_the_previous_one_is_stale()
    {
        var state = await ReadAsync();
        await WriteAsync(state, 1);
        var afterFirst = state.ETag;
        await WriteAsync(state, 2);

        Assert.NotEqual(afterFirst, state.ETag);
        var stale = new GrainState<RefQueueIndex>(new RefQueueIndex()) { ETag = afterFirst, RecordExists = true };
        await Assert.ThrowsAsync<InconsistentStateException>(() => WriteAsync(stale, 3));
    }

    [Fact]
    public async Task A_cleared_record_is_gone_and_may_be_inserted_again()
    {
        var state = await ReadAsync();
        await WriteAsync(state, 5);

        await storage.ClearStateAsync("queue", Grain, state);
        var cleared = await ReadAsync();
        await WriteAsync(state, 6);

        Assert.False(cleared.RecordExists);
        Assert.Null(cleared.ETag);
        Assert.Equal(6, (await ReadAsync()).State!.FirstChunk);
    }
}

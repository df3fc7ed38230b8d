using CiTrigger.Grains.Processing;
using Orleans.Storage;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>
/// A ref's state write that finds a newer version stored tells the activation (which then goes); any other
/// failure does not, and both are still thrown to the writer.
/// </summary>
public class ConflictNoticingStorageTests
{
    private static readonly GrainId Grain = GrainId.Create("ref", "octo/app:refs/heads/main");

    [Fact]
    public async Task A_write_behind_the_stored_version_is_noticed_and_still_fails()
    {
        var inner = new Support.MemoryGrainStorage();
        var noticed = 0;
        var storage = new ConflictNoticingStorage(inner, () => noticed++);
        var ahead = new GrainState<int>(1);
        await storage.WriteStateAsync("log.1", Grain, ahead);

        // This one's version is the one before the stored write, as a write's caller has after its answer was lost.
        var behind = new GrainState<int>(2);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("log.1", Grain, behind));
        Assert.Equal(1, noticed);

        inner.FailWrite = _ => true;
        await Assert.ThrowsAsync<IOException>(() => storage.WriteStateAsync("log.2", Grain, new GrainState<int>(3)));
        Assert.Equal(1, noticed);
    }

    [Fact]
    public async Task A_persistent_state_write_behind_the_stored_version_is_noticed()
    {
        var noticed = 0;
        var slot = new PersistentSlot<int>(new Conflicting(), () => noticed++);
        await Assert.ThrowsAsync<InconsistentStateException>(slot.WriteAsync);
        Assert.Equal(1, noticed);
        await Assert.ThrowsAsync<InconsistentStateException>(new PersistentSlot<int>(new Conflicting()).WriteAsync);
    }

    /// <summary>A persistent state whose every write finds a newer version stored.</summary>
    private sealed class Conflicting : IPersistentState<int>
    {
        public int State { get; set; }

        public string? Etag => "1";

        public bool RecordExists => true;

        public Task ClearStateAsync() => Task.CompletedTask;

        public Task ReadStateAsync() => Task.CompletedTask;

        public Task WriteStateAsync() => Task.FromException(new InconsistentStateException("stored 2, expected 1"));
    }
}

using CiTrigger.Grains.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Xunit;

namespace CiTrigger.Tests.Unit;

// The store's writes are synchronous callbacks on its one writer; to hold the writer in place a test blocks in one.
[System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "VSTHRD002", Justification = "A write callback is synchronous: blocking in it is how a test holds the writer.")]
public sealed class SqliteStoreTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private SqliteStore store = null!;

    public ValueTask InitializeAsync()
    {
        store = new SqliteStore(Path.Combine(Directory.CreateTempSubdirectory("citrigger-store-").FullName, "store.db"));
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => store.DisposeAsync();

    /// <summary>A row written in the writer's transaction; returns that transaction, which names the batch.</summary>
    private static SqliteTransaction Insert(SqliteStore.Writer w, string id)
    {
        var command = w.Command("INSERT INTO grain_state (grain_id, state_name, etag, data) VALUES ($id, 's', 1, x'00')");
        command.Parameters.AddWithValue("$id", id);
        command.ExecuteNonQuery();
        return command.Transaction!;
    }

    /// <summary>Which of the rows a reader on another connection sees: only committed ones.</summary>
    private string[] Committed(IEnumerable<string> ids) => store.Read(connection =>
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT grain_id FROM grain_state ORDER BY grain_id";
        using var reader = command.ExecuteReader();
        var found = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            found.Add(reader.GetString(0));
        }

        return ids.Where(found.Contains).ToArray();
    });

    /// <summary>
    /// Occupies the writer with a write that waits for <paramref name="release"/>, so that the writes the test
    /// queues meanwhile are all waiting when the next batch is taken.
    /// </summary>
    private async Task<Task<SqliteTransaction>> HoldWriterAsync(Task release)
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = store.WriteAsync(w =>
        {
            entered.SetResult();
            release.Wait(Bound);
            return Insert(w, "holder");
        });
        await entered.Task.WaitAsync(Bound);
        return held;
    }

    [Fact]
    public async Task Concurrent_writes_commit_together_and_each_completes_only_after_that_commit()
    {
        var releaseHolder = new TaskCompletionSource();
        var releaseLast = new TaskCompletionSource();
        var lastEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = await HoldWriterAsync(releaseHolder.Task);
        var ids = Enumerable.Range(0, 50).Select(i => $"row{i:00}").ToArray();

        var writes = ids.Select(id => store.WriteAsync(w => Insert(w, id))).ToList();

        // What each write's caller sees the moment it is told the write is done.
        var seenOnCompletion = writes.Select(async (write, i) =>
        {
            await write;
            return Committed([ids[i]]).Length == 1;
        }).ToList();
        var last = store.WriteAsync(w =>
        {
            // The batch's last write: the others of its batch have run, its commit has not.
            lastEntered.SetResult();
            releaseLast.Task.Wait(Bound);
            return Insert(w, "last");
        });
        releaseHolder.SetResult();
        await lastEntered.Task.WaitAsync(Bound);
        var completedBeforeCommit = writes.Count(w => w.IsCompleted);
        var visibleBeforeCommit = Committed(ids);
        releaseLast.SetResult();
        var transactions = await Task.WhenAll(writes.Append(last)).WaitAsync(Bound);

        Assert.Equal(0, completedBeforeCommit);
        Assert.Empty(visibleBeforeCommit);
        Assert.Single(transactions.Distinct());
        Assert.NotSame(await holder, transactions[0]);
        Assert.All(await Task.WhenAll(seenOnCompletion), Assert.True);
        Assert.Equal(ids, Committed(ids));
    }

    [Fact]
    public async Task A_completed_write_is_already_visible_to_readers_on_other_connections()
    {
        var ids = Enumerable.Range(0, 20).Select(i => $"seq{i:00}").ToArray();
        var seen = new List<string>();

        foreach (var id in ids)
        {
            await store.WriteAsync(w => Insert(w, id));
            seen.AddRange(Committed([id]));
        }

        Assert.Equal(ids, seen);
    }

    [Fact]
    public async Task A_failing_write_is_rolled_back_alone_and_its_neighbours_in_the_batch_commit()
    {
        var release = new TaskCompletionSource();
        var holder = await HoldWriterAsync(release.Task);
        SqliteTransaction? failedIn = null;

        var before = store.WriteAsync(w => Insert(w, "before"));
        var failing = store.WriteAsync<SqliteTransaction>(w =>
        {
            failedIn = Insert(w, "failing");
            throw new InvalidOperationException("injected: this write fails after writing");
        });
        var after = store.WriteAsync(w => Insert(w, "after"));
        release.SetResult();
        await holder.WaitAsync(Bound);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => failing.WaitAsync(Bound));
        Assert.Equal("injected: this write fails after writing", error.Message);
        var batch = await before.WaitAsync(Bound);
        Assert.Same(batch, await after.WaitAsync(Bound));
        Assert.Same(batch, failedIn);
        Assert.Equal(["after", "before"], Committed(["after", "before", "failing"]));
    }

    [Fact]
    public async Task A_write_that_breaks_a_constraint_fails_alone()
    {
        await store.WriteAsync(w => Insert(w, "taken"));
        var release = new TaskCompletionSource();
        var holder = await HoldWriterAsync(release.Task);

        var duplicate = store.WriteAsync(w => Insert(w, "taken"));
        var fresh = store.WriteAsync(w => Insert(w, "fresh"));
        release.SetResult();
        await holder.WaitAsync(Bound);

        await Assert.ThrowsAsync<SqliteException>(() => duplicate.WaitAsync(Bound));
        await fresh.WaitAsync(Bound);
        Assert.Equal(["fresh", "taken"], Committed(["fresh", "taken"]));
    }

    [Fact]
    public async Task Writes_after_disposal_fail_instead_of_waiting_forever()
    {
        await store.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.WriteAsync(w => Insert(w, "late")).WaitAsync(Bound));
    }
}

using System.Threading.Channels;
using CiTrigger.Grains.Processing;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class CoalescingWriterTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>A stored state whose writes the test lets finish, or fail, one at a time.</summary>
    private sealed class HeldSlot : IStateSlot<int>
    {
        private readonly Queue<TaskCompletionSource> pending = new();
        private readonly Channel<int> started = Channel.CreateUnbounded<int>();

        public int State { get; set; }

        /// <summary>The state each write started with, in order.</summary>
        public List<int> Written { get; } = [];

        public Task WriteAsync()
        {
            var write = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (pending)
            {
                Written.Add(State);
                pending.Enqueue(write);
            }

            started.Writer.TryWrite(State);
            return write.Task;
        }

        /// <summary>Waits until the next write has started.</summary>
        public async Task StartedAsync() => await started.Reader.ReadAsync().AsTask().WaitAsync(Bound);

        public void Finish() => Next().SetResult();

        public void Fail(Exception error) => Next().SetException(error);

        private TaskCompletionSource Next()
        {
            lock (pending)
            {
                return pending.Dequeue();
            }
        }
    }

    [Fact]
    public async Task Saves_queued_behind_a_running_write_fold_into_one_write_of_the_latest_state()
    {
        var slot = new HeldSlot();
        using var writer = new CoalescingWriter<int>(slot);

        var first = writer.SaveAsync(1);
        await slot.StartedAsync();
        var second = writer.SaveAsync(2);
        var third = writer.SaveAsync(3);
        Assert.Equal([1], slot.Written);

        slot.Finish();
        await first.WaitAsync(Bound);
        await slot.StartedAsync();
        Assert.False(second.IsCompleted || third.IsCompleted, "the folded saves wait for the write that carries them");
        slot.Finish();
        await Task.WhenAll(second, third).WaitAsync(Bound);

        Assert.Equal([1, 3], slot.Written);
        Assert.Equal(3, writer.State);
    }

    [Fact]
    public async Task A_save_returns_only_once_a_write_containing_it_succeeded()
    {
        var slot = new HeldSlot();
        using var writer = new CoalescingWriter<int>(slot);

        var saving = writer.SaveAsync(7);
        await slot.StartedAsync();

        Assert.False(saving.IsCompleted);
        slot.Finish();
        await saving.WaitAsync(Bound);
    }

    [Fact]
    public async Task A_failed_write_fails_its_save_and_the_next_flush_writes_the_state_again()
    {
        var slot = new HeldSlot();
        using var writer = new CoalescingWriter<int>(slot);

        var saving = writer.SaveAsync(5);
        await slot.StartedAsync();
        slot.Fail(new IOException("disk full"));
        var error = await Assert.ThrowsAsync<IOException>(() => saving.WaitAsync(Bound));
        var flushing = writer.FlushAsync();
        await slot.StartedAsync();
        slot.Finish();
        await flushing.WaitAsync(Bound);
        await writer.FlushAsync().WaitAsync(Bound);

        Assert.Equal("disk full", error.Message);
        Assert.Equal([5, 5], slot.Written);
    }

    [Fact]
    public async Task When_a_folded_write_fails_the_save_that_ran_it_gets_the_error_and_the_saves_behind_it_write_again()
    {
        var slot = new HeldSlot();
        using var writer = new CoalescingWriter<int>(slot);
        var first = writer.SaveAsync(1);
        await slot.StartedAsync();
        var second = writer.SaveAsync(2);
        var third = writer.SaveAsync(3);
        slot.Finish();
        await first.WaitAsync(Bound);

        await slot.StartedAsync();
        slot.Fail(new IOException("connection reset"));
        await Assert.ThrowsAsync<IOException>(() => second.WaitAsync(Bound));
        await slot.StartedAsync();
        Assert.False(third.IsCompleted, "a save whose write failed is not taken as written");
        slot.Finish();
        await third.WaitAsync(Bound);

        Assert.Equal([1, 3, 3], slot.Written);
    }

    [Fact]
    public async Task Flushing_with_nothing_unsaved_writes_nothing()
    {
        var slot = new HeldSlot();
        using var writer = new CoalescingWriter<int>(slot);
        var saving = writer.SaveAsync(1);
        await slot.StartedAsync();
        slot.Finish();
        await saving.WaitAsync(Bound);

        await writer.FlushAsync().WaitAsync(Bound);

        Assert.Equal([1], slot.Written);
    }

    [Fact]
    public async Task Replacing_the_state_takes_a_change_back_without_writing()
    {
        var slot = new HeldSlot();
        using var writer = new CoalescingWriter<int>(slot);

        writer.Replace(9);

        Assert.Equal(9, writer.State);
        Assert.Empty(slot.Written);
        await writer.FlushAsync().WaitAsync(Bound);
        Assert.Empty(slot.Written);
    }
}

using System.Collections.Immutable;
using System.Threading.Channels;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Processing;
using CiTrigger.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class SummaryPublisherTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(250);
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Fake time that says when a timer is set, so a test moves time on only once the code waits for it.</summary>
    private sealed class WatchedTime() : FakeTimeProvider(Now)
    {
        private readonly Channel<TimeSpan> timers = Channel.CreateUnbounded<TimeSpan>();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            timers.Writer.TryWrite(dueTime);
            return timer;
        }

        /// <summary>The due time of the next timer set.</summary>
        public Task<TimeSpan> NextTimerAsync() => timers.Reader.ReadAsync().AsTask().WaitAsync(Bound);

        public bool AnyTimerSet => timers.Reader.TryPeek(out _);
    }

    /// <summary>A ref whose queue length the test changes, published through a <see cref="SummaryPublisher"/>.</summary>
    private sealed class Subject
    {
        public Subject()
        {
            Publisher = new SummaryPublisher(Catalog, () => new RefSummary(HookEvents.Key, HookEvents.Repository, HookEvents.Ref,
                QueueLength, false, RefSummary.Pending, null, null, null, Time.GetUtcNow()),
                deliveries => EventLines.Of(HookEvents.Key, deliveries, Queue, History, InFlight, Time.GetUtcNow()), Delay, Time, Logger);
        }

        public WatchedTime Time { get; } = new();

        public MemoryRefCatalog Catalog { get; } = new();

        public ListLogger<SummaryPublisher> Logger { get; } = new();

        public SummaryPublisher Publisher { get; }

        public int QueueLength { get; set; }

        public ImmutableList<PendingEvent> Queue { get; set; } = [];

        public ImmutableList<HistoryEntry> History { get; set; } = [];

        public string? InFlight { get; set; }

        public IEnumerable<int> Published => Catalog.Summaries.Select(s => s.QueueLength);
    }

    [Fact]
    public async Task A_burst_of_changes_is_one_catalog_write_of_the_state_as_it_is_when_written()
    {
        var subject = new Subject();

        foreach (var length in new[] { 1, 2, 3 })
        {
            subject.QueueLength = length;
            subject.Publisher.Publish();
        }

        Assert.Equal(Delay, await subject.Time.NextTimerAsync());
        Assert.False(subject.Time.AnyTimerSet, "one burst, one wait");
        subject.Time.Advance(Delay - TimeSpan.FromTicks(1));
        Assert.Empty(subject.Catalog.Summaries);
        subject.QueueLength = 4;
        subject.Time.Advance(TimeSpan.FromTicks(1));
        await subject.Publisher.Idle.WaitAsync(Bound);

        Assert.Equal([4], subject.Published);
        Assert.Equal(Now + Delay, subject.Catalog.Summaries[0].UpdatedAt);
        Assert.False(subject.Time.AnyTimerSet);
    }

    [Fact]
    public async Task A_change_made_while_the_catalog_is_written_is_published_by_a_second_write_after_the_delay()
    {
        var subject = new Subject();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource();
        subject.Catalog.BeforeRecordRef = _ =>
        {
            if (entered.TrySetResult())
            {
                return release.Task;
            }

            return Task.CompletedTask;
        };
        subject.QueueLength = 1;
        subject.Publisher.Publish();
        await subject.Time.NextTimerAsync();
        subject.Time.Advance(Delay);
        await entered.Task.WaitAsync(Bound);

        subject.QueueLength = 2;
        subject.Publisher.Publish();
        Assert.False(subject.Time.AnyTimerSet, "the running publication takes the change");
        release.SetResult();
        Assert.Equal(Delay, await subject.Time.NextTimerAsync());
        Assert.Equal([1], subject.Published);
        subject.Time.Advance(Delay);
        await subject.Publisher.Idle.WaitAsync(Bound);

        Assert.Equal([1, 2], subject.Published);
    }

    [Fact]
    public async Task A_failed_catalog_write_is_logged_and_the_next_change_is_published()
    {
        var subject = new Subject();
        var failures = 1;
        subject.Catalog.BeforeRecordRef = _ => failures-- > 0 ? Task.FromException(new IOException("catalog unavailable")) : Task.CompletedTask;
        subject.QueueLength = 1;
        subject.Publisher.Publish();
        await subject.Time.NextTimerAsync();
        subject.Time.Advance(Delay);
        await subject.Publisher.Idle.WaitAsync(Bound);

        var warning = Assert.Single(subject.Logger.Entries);
        Assert.Equal((LogLevel.Warning, 8, $"Could not update the ref catalog for {HookEvents.Key}"), (warning.Level, warning.EventId, warning.Message));
        Assert.IsType<IOException>(warning.Error);
        Assert.Empty(subject.Catalog.Summaries);

        subject.QueueLength = 2;
        subject.Publisher.Publish();
        await subject.Time.NextTimerAsync();
        subject.Time.Advance(Delay);
        await subject.Publisher.Idle.WaitAsync(Bound);

        Assert.Equal([2], subject.Published);
    }

    [Fact]
    public async Task The_events_noted_in_a_burst_are_written_once_each_after_the_refs_line_in_their_state_when_written()
    {
        var subject = new Subject { Queue = [Pending(1), Pending(2)] };

        subject.Publisher.Publish("d1");
        subject.Publisher.Publish("d2");
        subject.Publisher.Publish("d1");
        await subject.Time.NextTimerAsync();
        subject.InFlight = "d1";
        subject.Queue = [Pending(1), Pending(2)];
        subject.History = [Finished(0, Outcome.Applied)];
        subject.Time.Advance(Delay);
        await subject.Publisher.Idle.WaitAsync(Bound);

        Assert.Equal([$"summary {HookEvents.Key}", "event d1 in-flight", "event d2 queued"], subject.Catalog.Journal.Entries);
        Assert.Equal((Now + Delay, HookEvents.Sha(1)), (subject.Catalog.Events["d1"].UpdatedAt, subject.Catalog.Events["d1"].Revision));
    }

    [Fact]
    public async Task Event_lines_whose_write_failed_are_written_with_the_refs_next_change()
    {
        var subject = new Subject { Queue = [Pending(1, "GitHub answered 503")] };
        var failures = 1;
        subject.Catalog.BeforeRecordEvents = _ => failures-- > 0 ? Task.FromException(new IOException("catalog unavailable")) : Task.CompletedTask;
        subject.Publisher.Publish("d1");
        await subject.Time.NextTimerAsync();
        subject.Time.Advance(Delay);
        await subject.Publisher.Idle.WaitAsync(Bound);
        var afterFailure = subject.Catalog.Events.Count;

        subject.Queue = [];
        subject.History = [Finished(1, Outcome.Failed, "gave up")];
        subject.Publisher.Publish();
        await subject.Time.NextTimerAsync();
        subject.Time.Advance(Delay);
        await subject.Publisher.Idle.WaitAsync(Bound);

        Assert.Equal(0, afterFailure);
        Assert.Equal((LogLevel.Warning, 8), (subject.Logger.Entries[0].Level, subject.Logger.Entries[0].EventId));
        Assert.Equal((EventStates.Failed, "gave up"), (subject.Catalog.Events["d1"].State, subject.Catalog.Events["d1"].Error));
    }

    private static PendingEvent Pending(int n, string? error = null) =>
        error is null ? HookEvents.Pending(n) : HookEvents.Pending(n) with { Attempts = [new AttemptRecord(Now, TimeSpan.FromSeconds(1), error, true)] };

    private static HistoryEntry Finished(int n, Outcome outcome, string? error = null) =>
        new(HookEvents.Push(n), outcome, error, Now, Now, [], [], false);

    public static TheoryData<ImmutableList<PendingEvent>, bool, HistoryEntry?, string, string?> States => new()
    {
        // Nothing happened yet; the last event applied; it failed; an operator skipped it.
        { [], false, null, RefSummary.Idle, null },
        { [], false, Finished(1, Outcome.Applied), RefSummary.Idle, null },
        { [], false, Finished(1, Outcome.Failed, "no manifest"), RefSummary.FailedState, "no manifest" },
        { [], false, Finished(1, Outcome.Skipped, "skipped by an operator"), RefSummary.Idle, "skipped by an operator" },

        // Events wait; the head failed and waits for its retry; a paused ref is paused whatever else holds.
        { [Pending(2), Pending(3)], false, Finished(1, Outcome.Failed, "no manifest"), RefSummary.Pending, "no manifest" },
        { [Pending(2, "GitHub answered 503"), Pending(3)], false, null, RefSummary.Retrying, "GitHub answered 503" },
        { [Pending(2, "GitHub answered 503")], true, Finished(1, Outcome.Failed, "x"), RefSummary.PausedState, "GitHub answered 503" },
    };

    [Theory]
    [MemberData(nameof(States))]
    public void A_refs_state_is_summarised_for_the_catalog(ImmutableList<PendingEvent> pending, bool paused, HistoryEntry? last, string state, string? error)
    {
        var summary = SummaryPublisher.Summarize(HookEvents.Key, pending, paused, last, Now);

        Assert.Equal(
            new RefSummary(HookEvents.Key, HookEvents.Repository, HookEvents.Ref, pending.Count, paused, state, last?.Event.Delivery, last?.Outcome, error, Now),
            summary);
    }
}

using CiTrigger.Grains.GitHub;
using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>What the delivery scanner remembers of the redeliveries it asked for, and when it asks again.</summary>
public sealed class RequestedRedeliveriesTests
{
    private const string Log = "app/hook/deliveries";
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan ScanInterval = TimeSpan.FromMinutes(5);

    private readonly DeliveryRecoveryState state = new();
    private readonly FakeTimeProvider time = new(Now);
    private readonly RequestedRedeliveries requests;

    public RequestedRedeliveriesTests() =>
        requests = new RequestedRedeliveries(state, new RetryPolicy(15, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), new Random(7)), ScanInterval);

    private static HookDeliveryItem Missed(string guid, DateTimeOffset deliveredAt) =>
        new() { Id = 1000, DeliveryGuid = guid, DeliveredAt = deliveredAt, StatusCode = 503, Event = "push" };

    private AwaitedDelivery Awaited(string guid) => Assert.Single(requests.Awaited, a => a.Key == guid).Value;

    [Fact]
    public void A_delivery_asked_for_is_asked_again_after_waits_that_double_from_the_scan_interval_up_to_an_hour()
    {
        requests.Asked(Log, Missed("d1", Now.AddMinutes(-10)), time.GetUtcNow());
        var waits = new List<TimeSpan>();
        for (var ask = 1; ask <= 7; ask++)
        {
            var awaited = Awaited("d1");
            Assert.Equal(AwaitedStep.Wait, RequestedRedeliveries.Step(awaited, awaited.NextAsk.AddSeconds(-1)));
            Assert.Equal(AwaitedStep.AskAgain, RequestedRedeliveries.Step(awaited, awaited.NextAsk));
            waits.Add(awaited.NextAsk - time.GetUtcNow());
            time.SetUtcNow(awaited.NextAsk);
            requests.AskedAgain("d1", time.GetUtcNow());
        }

        // Equal jitter: each wait lies between half its ceiling and the ceiling, which doubles from 5 minutes to an hour.
        double[] ceilings = [5, 10, 20, 40, 60, 60, 60];
        Assert.All(waits.Zip(ceilings), w => Assert.InRange(w.First.TotalMinutes, w.Second / 2, w.Second));
        Assert.Equal(8, Awaited("d1").Asks);
    }

    [Fact]
    public void A_delivery_older_than_githubs_three_day_window_is_no_longer_asked_for()
    {
        var deliveredAt = Now.AddHours(-1);
        requests.Asked(Log, Missed("d1", deliveredAt), time.GetUtcNow());

        time.SetUtcNow(deliveredAt + RequestedRedeliveries.Window - TimeSpan.FromSeconds(1));
        var lastChance = RequestedRedeliveries.Step(Awaited("d1"), time.GetUtcNow());
        time.Advance(TimeSpan.FromSeconds(2));
        var tooOld = RequestedRedeliveries.Step(Awaited("d1"), time.GetUtcNow());

        Assert.Equal(AwaitedStep.AskAgain, lastChance);
        Assert.Equal(AwaitedStep.Expired, tooOld);
    }

    [Theory]
    [InlineData(202, true)]
    [InlineData(200, true)]
    [InlineData(400, true)]
    [InlineData(401, true)]
    [InlineData(0, false)]
    [InlineData(500, false)]
    [InlineData(503, false)]
    [InlineData(408, false)]
    [InlineData(429, false)]
    public void An_attempt_answered_2xx_or_refused_for_good_ends_the_wait_and_a_timeout_or_a_transient_answer_does_not(int statusCode, bool settles) =>
        Assert.Equal(settles, RequestedRedeliveries.Settles(new HookDeliveryItem { Id = 2000, DeliveryGuid = "d1", StatusCode = statusCode, Event = "push" }));

    [Fact]
    public void Guids_asked_for_are_forgotten_after_the_window_while_one_still_awaited_is_kept_until_it_expires()
    {
        requests.Asked(Log, Missed("settled", Now.AddMinutes(-1)), time.GetUtcNow());
        requests.Asked(Log, Missed("awaited", Now.AddMinutes(-1)), time.GetUtcNow());
        requests.Refused("refused", time.GetUtcNow());
        requests.Settle("settled");

        time.Advance(RequestedRedeliveries.Window + TimeSpan.FromMinutes(10));
        requests.Forget(time.GetUtcNow(), TimeSpan.FromMinutes(5));

        Assert.Equal("awaited", Assert.Single(state.Requested.Keys));
        Assert.Equal("awaited", Assert.Single(requests.Awaited).Key);
        Assert.False(requests.WasAsked("settled"));
        Assert.Equal(AwaitedStep.Expired, RequestedRedeliveries.Step(Awaited("awaited"), time.GetUtcNow()));
    }

    [Fact]
    public void A_delivery_github_refuses_to_redeliver_is_remembered_but_not_awaited()
    {
        requests.Asked(Log, Missed("d1", Now.AddMinutes(-1)), time.GetUtcNow());

        requests.Refused("d1", time.GetUtcNow().AddMinutes(5));

        Assert.True(requests.WasAsked("d1"));
        Assert.Empty(requests.Awaited);
        Assert.Equal(Now, state.Requested["d1"]);
    }
}

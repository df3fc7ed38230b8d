using CiTrigger.Grains.Pipeline;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class RetryPolicyTests
{
    private static readonly TimeSpan Base = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(60);

    private static RetryPolicy Policy(int maxAttempts = 5, int seed = 42) => new(maxAttempts, Base, Max, new Random(seed));

    [Theory]
    [InlineData(1, 0.5, 1)]
    [InlineData(2, 1, 2)]
    [InlineData(4, 4, 8)]
    [InlineData(10, 30, 60)]
    [InlineData(1000, 30, 60)]
    public void Delays_double_per_attempt_with_jitter_and_stop_at_the_ceiling(int attempts, double minSeconds, double maxSeconds)
    {
        var policy = Policy();
        var delays = Enumerable.Range(0, 200).Select(_ => policy.Delay(attempts, null).TotalSeconds).ToList();

        Assert.All(delays, d => Assert.InRange(d, minSeconds, maxSeconds));
        Assert.True(delays.Distinct().Count() > 100, "jitter spreads retries");
    }

    [Fact]
    public void A_servers_retry_after_is_a_floor_but_not_beyond_the_ceiling()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), Policy().Delay(1, TimeSpan.FromSeconds(30)));
        Assert.Equal(Max, Policy().Delay(1, TimeSpan.FromHours(1)));
    }

    [Fact]
    public void A_permanent_failure_is_final_at_once_with_its_own_words()
    {
        var decision = Policy().Decide(1, new ManifestException("no such file"), "no such file");

        Assert.Equal((false, "no such file"), (decision.Retry, decision.FinalError));
    }

    [Fact]
    public void Transient_and_unclassified_failures_are_retried_until_the_attempt_limit_then_given_up_in_words()
    {
        var policy = Policy(maxAttempts: 3);

        var first = policy.Decide(1, new TransientException("503", retryAfter: TimeSpan.FromSeconds(20)), "503");
        var second = policy.Decide(2, new InvalidOperationException("surprise"), "surprise");
        var last = policy.Decide(3, new TransientException("503"), "503");

        Assert.True(first.Retry);
        Assert.Equal(TimeSpan.FromSeconds(20), first.Delay);
        Assert.True(second.Retry);
        Assert.Equal((false, "gave up after 3 attempts: 503"), (last.Retry, last.FinalError));
    }

    [Fact]
    public async Task Running_an_operation_retries_transient_failures_and_returns_the_final_one()
    {
        var policy = new RetryPolicy(3, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(2), new Random(1));
        var calls = 0;

        var error = await policy.RunAsync(_ => ++calls < 10 ? throw new TransientException("down") : Task.CompletedTask, TimeProvider.System, CancellationToken.None);

        Assert.Equal(3, calls);
        Assert.IsType<TransientException>(error);
    }

    [Fact]
    public async Task Running_an_operation_stops_at_a_permanent_failure_and_succeeds_after_a_transient_one()
    {
        var policy = new RetryPolicy(5, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(2), new Random(1));
        var permanentCalls = 0;
        var flakyCalls = 0;

        var permanent = await policy.RunAsync(_ => { permanentCalls++; throw new PermanentException("404"); }, TimeProvider.System, CancellationToken.None);
        var flaky = await policy.RunAsync(_ => ++flakyCalls == 1 ? throw new TransientException("blip") : Task.CompletedTask, TimeProvider.System, CancellationToken.None);

        Assert.Equal((1, true), (permanentCalls, permanent is PermanentException));
        Assert.Equal((2, null), (flakyCalls, flaky));
    }
}

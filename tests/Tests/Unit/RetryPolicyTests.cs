using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Options;
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

    [Fact]
    public void Reports_and_stops_take_their_own_attempt_limits_from_the_handler_section_with_the_same_backoff()
    {
        var options = new RetryOptions { MaxAttempts = 9, MaxReportAttempts = 2, MaxStopAttempts = 4, RetryBaseDelay = Base, RetryMaxDelay = Max };
        var policy = new RetryPolicy(Options.Create(options));

        Assert.Equal((2, Base, Max), (policy.ForReports().MaxAttempts, policy.ForReports().BaseDelay, policy.ForReports().MaxDelay));
        Assert.Equal((4, Base, Max), (policy.ForStops().MaxAttempts, policy.ForStops().BaseDelay, policy.ForStops().MaxDelay));
        Assert.Equal((15, 3, 5), (new RetryOptions().MaxAttempts, new RetryOptions().MaxReportAttempts, new RetryOptions().MaxStopAttempts));
    }

    [Fact]
    public void An_attempt_limit_below_one_is_refused_naming_its_key()
    {
        var problems = new RetryOptions { MaxAttempts = 0, MaxReportAttempts = 0, MaxStopAttempts = -1 }.Validate();

        Assert.Equal(
            ["Handler:MaxAttempts: must be at least 1 (was 0)", "Handler:MaxReportAttempts: must be at least 1 (was 0)", "Handler:MaxStopAttempts: must be at least 1 (was -1)"],
            problems);
    }
}

using CiTrigger.Grains.Processing;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class BackoffTests
{
    private static readonly TimeSpan Base = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(1, 0.5, 1)]
    [InlineData(2, 1, 2)]
    [InlineData(4, 4, 8)]
    [InlineData(10, 30, 60)]
    [InlineData(1000, 30, 60)]
    public void Delays_double_per_attempt_with_jitter_and_stop_at_the_ceiling(int attempts, double minSeconds, double maxSeconds)
    {
        var random = new Random(42);
        var delays = Enumerable.Range(0, 200).Select(_ => Backoff.Delay(attempts, Base, Max, null, random).TotalSeconds).ToList();

        Assert.All(delays, d => Assert.InRange(d, minSeconds, maxSeconds));
        Assert.True(delays.Distinct().Count() > 100, "jitter spreads retries");
    }

    [Fact]
    public void A_servers_retry_after_is_a_floor_but_not_beyond_the_ceiling()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), Backoff.Delay(1, Base, Max, TimeSpan.FromSeconds(30), new Random(1)));
        Assert.Equal(Max, Backoff.Delay(1, Base, Max, TimeSpan.FromHours(1), new Random(1)));
    }
}

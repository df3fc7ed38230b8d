namespace CiTrigger.Grains.Abstractions;

/// <summary>
/// The one scanner of GitHub's delivery logs in the cluster (key 0): at activation and then every
/// <c>GitHub:RecoveryInterval</c> it asks GitHub to redeliver each failed delivery of a handled event
/// type that the delivery index does not know, and asks again, with a growing backoff, while the index
/// still does not know it, up to GitHub's three-day redelivery window. A reminder brings it back on
/// another silo when its silo dies.
/// </summary>
public interface IDeliveryRecoveryGrain : IGrainWithIntegerKey
{
    /// <summary>Activates the scanner (which scans at once) if it is not running yet; idle when recovery is off.</summary>
    Task Start();

    /// <summary>Whether recovery is on, and what the last scan saw and requested.</summary>
    Task<RecoveryStatus> GetStatus();
}

/// <summary>One scan: when it started, the deliveries it looked at, the redeliveries it asked for (first and repeated requests), and why it stopped early, if it did.</summary>
[GenerateSerializer, Immutable]
public sealed record RecoveryScan(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] int Seen,
    [property: Id(2)] int Requested,
    [property: Id(3)] string? Error);

/// <summary>
/// The scanner's state as the admin API shows it: <see cref="Remembered"/> deliveries asked for within the
/// window, of which <see cref="Awaited"/> are still unknown to the delivery index and will be asked for again.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RecoveryStatus(
    [property: Id(0)] bool Enabled,
    [property: Id(1)] TimeSpan Interval,
    [property: Id(2)] long Scans,
    [property: Id(3)] RecoveryScan? LastScan,
    [property: Id(4)] int Remembered,
    [property: Id(5)] int Awaited);

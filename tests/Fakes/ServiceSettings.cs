using System.Globalization;

namespace CiTrigger.Tests.Fakes;

/// <summary>
/// Configuration that the tests and the benchmark give the service alike, each value defined once, so that
/// a run of either means the same service: retries and recovery on a test's time scale instead of an
/// operator's.
/// </summary>
public static class ServiceSettings
{
    /// <summary>A failed attempt is tried again after 25-400 ms instead of 0.5 s to 5 min.</summary>
    public static IReadOnlyDictionary<string, string> FastRetry { get; } = new Dictionary<string, string>
    {
        ["Handler:RetryBaseDelay"] = "00:00:00.050",
        ["Handler:RetryMaxDelay"] = "00:00:00.400",
    };

    /// <summary>
    /// The single-file mode (an explicit <c>Handler:ManifestPath</c>): one manifest, <c>.ci/workflow.yaml</c>, one
    /// check named <c>GitHub:StatusContext</c>. The tests written before pipelines run in it; pipeline tests leave it out.
    /// </summary>
    public static IReadOnlyDictionary<string, string> SingleFile { get; } = new Dictionary<string, string>
    {
        ["Handler:ManifestPath"] = ".ci/workflow.yaml",
    };

    /// <summary>
    /// A ref whose silo died or restarted is taken up again within 2 s, its pending-work reminder's period,
    /// instead of a minute (Orleans is told to allow periods down to 1 s).
    /// </summary>
    public static IReadOnlyDictionary<string, string> FastRecovery { get; } = new Dictionary<string, string>
    {
        ["Handler:ReminderPeriod"] = "00:00:02",
        ["Orleans:MinimumReminderPeriod"] = "00:00:01",
    };

    /// <summary>The shortest reminder period <see cref="FastRecovery"/> lets Orleans accept, for silos configured in code.</summary>
    public static TimeSpan MinimumReminderPeriod => TimeSpan.Parse(FastRecovery["Orleans:MinimumReminderPeriod"], CultureInfo.InvariantCulture);

    /// <summary>
    /// A silo of a Redis cluster on loopback, on ports of its own, with failure detection fast enough for a
    /// test: a silo is declared dead after two missed 1 s probes, on one vote.
    /// </summary>
    public static IReadOnlyDictionary<string, string> RedisSilo(string connectionString) => new Dictionary<string, string>
    {
        ["Orleans:Clustering"] = "Redis",
        ["ConnectionStrings:Redis"] = connectionString,
        ["Orleans:AdvertisedIP"] = "127.0.0.1",
        ["Orleans:SiloPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
        ["Orleans:GatewayPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
        ["Orleans:Membership:ProbeTimeout"] = "00:00:01",
        ["Orleans:Membership:NumMissedProbesLimit"] = "2",
        ["Orleans:Membership:NumVotesForDeathDeclaration"] = "1",
    };

    /// <summary>A silo of the embedded default (state in SQLite under <paramref name="dataPath"/>) on ports of its own.</summary>
    public static IReadOnlyDictionary<string, string> EmbeddedSilo(string dataPath) => new Dictionary<string, string>
    {
        ["Orleans:DataPath"] = dataPath,
        ["Orleans:SiloPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
        ["Orleans:GatewayPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The settings of every layer in turn; a later layer's value for a key wins.</summary>
    public static Dictionary<string, string> Combine(params IEnumerable<IEnumerable<KeyValuePair<string, string>>?> layers)
    {
        var combined = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var layer in layers)
        {
            foreach (var (key, value) in layer ?? [])
            {
                combined[key] = value;
            }
        }

        return combined;
    }
}

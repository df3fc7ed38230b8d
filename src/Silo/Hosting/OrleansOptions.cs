using System.Net;
using Orleans.Configuration;

namespace CiTrigger.Silo.Hosting;

/// <summary>How this process joins (or forms) its Orleans cluster and where it keeps state.</summary>
public sealed class OrleansOptions
{
    public const string Section = "Orleans";
    public const string Localhost = "Localhost";
    public const string Redis = "Redis";

    /// <summary><c>Localhost</c> (single silo, state on local disk) or <c>Redis</c>.</summary>
    public string Clustering { get; set; } = Localhost;

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>Where the embedded default keeps its SQLite database.</summary>
    public string DataPath { get; set; } = "./data";

    public string ServiceId { get; set; } = "k8s-webhook-handler";

    public string ClusterId { get; set; } = "default";

    /// <summary>The address other silos reach this one at; in a pod the pod IP is used.</summary>
    public string? AdvertisedIP { get; set; }

    /// <summary>Lower bound Orleans puts on reminder periods (1 minute unless lowered, e.g. for tests).</summary>
    public TimeSpan? MinimumReminderPeriod { get; set; }

    /// <summary>How long an idle ref stays in memory before it is deactivated.</summary>
    public TimeSpan? CollectionAge { get; set; }

    /// <summary>
    /// How often a silo reads its range of the reminder table again (Orleans' default: 5 minutes). A reminder a
    /// ref dropped leaves the silo's memory only then, ~2 KB each, so after a burst over many refs the heap
    /// comes back only at the next read.
    /// </summary>
    public TimeSpan? ReminderRefreshPeriod { get; set; }

    /// <summary>
    /// How many grain locations a silo remembers (Orleans' directory cache, least recently used first out).
    /// Orleans keeps a million; a ref is touched a few times and then rests, so its entry is rarely used again
    /// and would keep ~0.2 KB of heap per ref long after the ref left memory.
    /// </summary>
    public int DirectoryCacheSize { get; set; } = 10_000;

    public bool IsRedis => string.Equals(Clustering, Redis, StringComparison.OrdinalIgnoreCase);

    public IEnumerable<string> Validate(string? redisConnection)
    {
        if (!string.Equals(Clustering, Localhost, StringComparison.OrdinalIgnoreCase) && !IsRedis)
        {
            yield return $"{Section}:Clustering: '{Clustering}' is neither {Localhost} nor {Redis}";
        }

        if (IsRedis && string.IsNullOrWhiteSpace(redisConnection))
        {
            yield return $"ConnectionStrings:Redis: required when {Section}:Clustering={Redis}";
        }

        foreach (var (key, port) in new[] { ("SiloPort", SiloPort), ("GatewayPort", GatewayPort) })
        {
            if (port is < 1 or > 65535)
            {
                yield return $"{Section}:{key}: {port} is not a TCP port";
            }
        }

        if (SiloPort == GatewayPort)
        {
            yield return $"{Section}:GatewayPort: must differ from {Section}:SiloPort";
        }

        if (AdvertisedIP is not null && !IPAddress.TryParse(AdvertisedIP, out _))
        {
            yield return $"{Section}:AdvertisedIP: '{AdvertisedIP}' is not an IP address";
        }

        if (string.IsNullOrWhiteSpace(DataPath))
        {
            yield return $"{Section}:DataPath: must not be empty";
        }

        // Orleans checks these two itself, but only once the silo starts, and with a stack trace.
        if (MinimumReminderPeriod < TimeSpan.Zero)
        {
            yield return $"{Section}:MinimumReminderPeriod: must not be negative (was {MinimumReminderPeriod})";
        }

        if (ReminderRefreshPeriod <= TimeSpan.Zero)
        {
            yield return $"{Section}:ReminderRefreshPeriod: must be positive (was {ReminderRefreshPeriod})";
        }

        if (DirectoryCacheSize < 0)
        {
            yield return $"{Section}:DirectoryCacheSize: must not be negative (was {DirectoryCacheSize}; 0 turns the cache off)";
        }

        if (CollectionAge is { } age && age <= CollectionQuantum)
        {
            yield return $"{Section}:CollectionAge: must be longer than Orleans' collection quantum of {CollectionQuantum} (was {age})";
        }
    }

    /// <summary>The shortest reminder period Orleans accepts: <see cref="MinimumReminderPeriod"/>, else Orleans' own default of a minute.</summary>
    public TimeSpan EffectiveMinimumReminderPeriod => MinimumReminderPeriod ?? new ReminderOptions().MinimumReminderPeriod;

    private static TimeSpan CollectionQuantum => new GrainCollectionOptions().CollectionQuantum;
}

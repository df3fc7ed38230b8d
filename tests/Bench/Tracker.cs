using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace CiTrigger.Bench;

/// <summary>
/// What was acknowledged and what the fake cluster created, with timestamps: the source of end-to-end
/// latency, throughput, lost events, duplicates and order violations. With pipelines an event is applied once the
/// object of each of its pipelines was created (at the last one); duplicates and order are judged per pipeline.
/// </summary>
/// <param name="pipelines">The pipelines each event runs (every one matches), 0 in the single-file mode.</param>
public sealed class Tracker(int pipelines = 0)
{
    private readonly ConcurrentDictionary<string, long> acked = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> created = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> creations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> parts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, List<(int Sequence, string Delivery)>> sequences = new(StringComparer.Ordinal);
    private long firstCreated = long.MaxValue;
    private long lastCreated;

    public int Acked => acked.Count;

    public int Applied => created.Count;

    public void Ack(Webhooks.Request request, long at) => acked[request.Delivery] = at;

    /// <summary>The fake cluster's creation hook: called under its lock, so creations arrive in order.</summary>
    public void Created(JsonObject obj)
    {
        var at = Stopwatch.GetTimestamp();
        var delivery = obj["metadata"]!["labels"]!["k8s-webhook-handler.io/delivery"]!.GetValue<string>();
        var annotations = obj["metadata"]!["annotations"]!;
        var gitRef = annotations["k8s-webhook-handler.io/ref"]!.GetValue<string>();
        var revision = annotations["k8s-webhook-handler.io/revision"]!.GetValue<string>();
        var pipeline = annotations["k8s-webhook-handler.io/pipeline"]?.GetValue<string>();
        var key = pipeline is null ? delivery : $"{delivery} {pipeline}";
        if (creations.AddOrUpdate(key, 1, (_, n) => n + 1) == 1 && parts.AddOrUpdate(delivery, 1, (_, n) => n + 1) >= Math.Max(1, pipelines))
        {
            created.TryAdd(delivery, at);
        }

        var list = sequences.GetOrAdd(pipeline is null ? gitRef : $"{gitRef} ({pipeline})", _ => []);
        lock (list)
        {
            list.Add((int.Parse(revision[8..], NumberStyles.HexNumber, CultureInfo.InvariantCulture), delivery));
        }

        InterlockedMin(ref firstCreated, at);
        InterlockedMax(ref lastCreated, at);
    }

    /// <summary>Acknowledged deliveries the cluster never saw (with pipelines: not for each pipeline).</summary>
    public int Lost => acked.Keys.Count(d => !created.ContainsKey(d));

    /// <summary>Objects (with pipelines: a delivery's object of one pipeline) created more than once.</summary>
    public int Duplicates => creations.Values.Count(n => n > 1);

    /// <summary>Diagnostics for duplicated deliveries: when each was acknowledged and first created.</summary>
    public IEnumerable<string> DescribeDuplicates(long origin)
    {
        string At(string delivery, ConcurrentDictionary<string, long> times) => times.TryGetValue(delivery, out var t)
            ? Stopwatch.GetElapsedTime(origin, t).TotalSeconds.ToString("N2", CultureInfo.InvariantCulture) + "s"
            : "never";

        // A key is the delivery, with pipelines followed by a space and the pipeline.
        return creations.Where(c => c.Value > 1).Select(c =>
            $"{c.Key}: created {c.Value}x, applied at {At(c.Key.Split(' ')[0], created)}, acked {At(c.Key.Split(' ')[0], acked)}");
    }

    /// <summary>Refs (with pipelines: each pipeline of a ref) whose pushes were created out of their chain's order, counted per misplaced creation.</summary>
    public int OrderViolations => sequences.Values.Sum(list =>
    {
        lock (list)
        {
            return list.Zip(list.Skip(1)).Count(pair => pair.Second.Sequence <= pair.First.Sequence);
        }
    });

    /// <summary>Diagnostics for order violations: each misplaced creation with when it and the one before it were acknowledged and created.</summary>
    public IEnumerable<string> DescribeViolations(long origin)
    {
        string At(string delivery, ConcurrentDictionary<string, long> times) => times.TryGetValue(delivery, out var t)
            ? Stopwatch.GetElapsedTime(origin, t).TotalSeconds.ToString("N3", CultureInfo.InvariantCulture) + "s"
            : "never";

        foreach (var (gitRef, list) in sequences)
        {
            List<((int Sequence, string Delivery) First, (int Sequence, string Delivery) Second)> pairs;
            lock (list)
            {
                pairs = [.. list.Zip(list.Skip(1)).Where(pair => pair.Second.Sequence <= pair.First.Sequence)];
            }

            string order;
            lock (list)
            {
                order = string.Join(' ', list.Select(item => item.Sequence));
            }

            if (pairs.Count > 0)
            {
                yield return $"{gitRef}: created in the order {order}";
            }

            foreach (var (first, second) in pairs)
            {
                yield return $"{gitRef}: #{second.Sequence} (acked {At(second.Delivery, acked)}, created {At(second.Delivery, created)}) " +
                    $"after #{first.Sequence} (acked {At(first.Delivery, acked)}, created {At(first.Delivery, created)})";
            }
        }
    }

    /// <summary>Events applied per second between the first and the last creation.</summary>
    public double AppliedPerSecond => Applied < 2 ? double.NaN : Applied / Stopwatch.GetElapsedTime(firstCreated, lastCreated).TotalSeconds;

    public long LastCreated => Interlocked.Read(ref lastCreated);

    /// <summary>From the client's 202 to the object's creation (negative when the apply beat the answer: counted as 0).</summary>
    public LatencyStats EndToEnd => new(acked.Where(a => created.ContainsKey(a.Key))
        .Select(a => Math.Max(0, Stopwatch.GetElapsedTime(a.Value, created[a.Key]).TotalMilliseconds)));

    /// <summary>Latest creation among deliveries acknowledged before <paramref name="moment"/>.</summary>
    public long LastCreatedOfAckedBefore(long moment) =>
        acked.Where(a => a.Value < moment && created.ContainsKey(a.Key)).Select(a => created[a.Key]).DefaultIfEmpty(moment).Max();

    public async Task<bool> WaitAllAppliedAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (acked.Keys.Any(d => !created.ContainsKey(d)))
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    private static void InterlockedMin(ref long target, long value)
    {
        long current;
        while (value < (current = Interlocked.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while (value > (current = Interlocked.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}

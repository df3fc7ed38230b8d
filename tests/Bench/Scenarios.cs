using System.Diagnostics;
using System.Globalization;
using System.Text;
using CiTrigger.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace CiTrigger.Bench;

/// <summary>The runs of the benchmark, each printing a Markdown table.</summary>
public sealed class Scenarios(BenchOptions options, string directory, string? redis)
{
    private int runs;

    /// <summary>True once any run lost, duplicated or reordered an event.</summary>
    public bool Failed { get; private set; }

    /// <summary>Accept throughput and acknowledgement latency, service against baselines measured now.</summary>
    public async Task AcceptAsync()
    {
        Console.WriteLine($"## Accept: closed loop, {options.Concurrency} connections, {options.Duration.TotalSeconds:0} s, {options.AcceptRefs} refs");
        Console.WriteLine();
        Table("target", "accepted/s", "p50 ms", "p99 ms", "p99.9 ms", "CPU µs/req", "errors");
        var results = new Dictionary<string, LoadResult>();
        async Task Measure(string key, Func<Task<ITarget>> start)
        {
            // --targets B,S-sqlite,A-redis,... measures only those (for profiling one of them).
            if (options.Targets is { } only && !only.Contains(key))
            {
                return;
            }

            await using var target = await start();
            using var load = new Load(target.Address, options.Concurrency);
            var stream = new Webhooks.Sequence($"a{++runs}", options.AcceptRefs);
            // Tiered compilation and dynamic PGO keep recompiling a fresh process for many seconds: warm it up first.
            await load.ClosedLoopAsync(options.Concurrency, options.Warmup, stream.Next);
            var result = await load.ClosedLoopAsync(options.Concurrency, options.Duration, stream.Next);
            results[key] = result;
            Row(target.Name, result.PerSecond.ToString("N0", CultureInfo.InvariantCulture), Ms(result.Latency.Percentile(50)),
                Ms(result.Latency.Percentile(99)), Ms(result.Latency.Percentile(99.9)), result.CpuMicrosecondsPerRequest.ToString("N0", CultureInfo.InvariantCulture),
                result.Errors.ToString(CultureInfo.InvariantCulture));
        }

        await Measure("B", async () => await Baseline.BareAsync());
        await Measure("D-sqlite", async () => await Baseline.SqliteAsync(NewDirectory()));
        await using (var fakes = await Fakes.StartAsync(TimeSpan.Zero, options.Pipelines))
        {
            await Measure("S-sqlite", async () => await Service.StartAsync("S   service, embedded (SQLite)", fakes.GitHub, fakes.Kubernetes, NewDirectory(), null));
        }

        if (redis is not null)
        {
            await Measure("D-redis", async () => await Baseline.RedisAsync(redis));
            await using var fakes = await Fakes.StartAsync(TimeSpan.Zero, options.Pipelines);
            await Measure("S-redis", async () => await Service.StartAsync("S   service, Redis mode (1 silo)", fakes.GitHub, fakes.Kubernetes, NewDirectory(), redis));
        }

        // The acknowledgement path alone: the same service with every benchmark repository paused, so
        // events are stored and answered but not processed (the rows above process them concurrently).
        async Task<ITarget> Paused(string name, string? redisConnection, Fakes fakes)
        {
            var service = await Service.StartAsync(name, fakes.GitHub, fakes.Kubernetes, NewDirectory(), redisConnection);
            using var admin = new HttpClient { BaseAddress = service.Address };
            for (var repo = 0; repo < 100; repo++)
            {
                using var paused = await admin.PostAsync($"/admin/repos/bench/r{repo}/pause", null);
                paused.EnsureSuccessStatusCode();
            }

            return service;
        }

        await using (var fakes = await Fakes.StartAsync(TimeSpan.Zero, options.Pipelines))
        {
            await Measure("A-sqlite", async () => await Paused("S   service, embedded, processing paused", null, fakes));
        }

        if (redis is not null)
        {
            await using var fakes = await Fakes.StartAsync(TimeSpan.Zero, options.Pipelines);
            await Measure("A-redis", async () => await Paused("S   service, Redis mode, processing paused", redis, fakes));
        }

        Console.WriteLine();
        Console.WriteLine($"- service / B (embedded): {Ratio(results, "S-sqlite", "B")}; service / D (SQLite): {Ratio(results, "S-sqlite", "D-sqlite")}; " +
            $"acknowledgement path alone / D (SQLite): {Ratio(results, "A-sqlite", "D-sqlite")}");
        if (redis is not null)
        {
            Console.WriteLine($"- service / B (Redis): {Ratio(results, "S-redis", "B")}; service / D (Redis): {Ratio(results, "S-redis", "D-redis")}; " +
                $"acknowledgement path alone / D (Redis): {Ratio(results, "A-redis", "D-redis")}");
        }

        Console.WriteLine();
        Console.WriteLine($"## Acknowledgement latency: open loop at {options.Rate:N0} events/s for {options.Duration.TotalSeconds:0} s");
        Console.WriteLine();
        Table("target", "sent/s", "p50 ms", "p99 ms", "p99.9 ms", "errors");
        async Task Open(string key, Func<Task<ITarget>> start)
        {
            // Open-loop rows are named O-B, O-sqlite and O-redis for --targets.
            if (options.Targets is { } only && !only.Contains(key))
            {
                return;
            }

            await using var target = await start();
            using var load = new Load(target.Address, options.Concurrency);
            var stream = new Webhooks.Sequence($"o{++runs}", options.AcceptRefs);
            await load.OpenLoopAsync(options.Rate, options.Warmup, stream.Next);
            var result = await load.OpenLoopAsync(options.Rate, options.Duration, stream.Next);
            Row(target.Name, (result.Accepted / result.Elapsed.TotalSeconds).ToString("N0", CultureInfo.InvariantCulture), Ms(result.Latency.Percentile(50)),
                Ms(result.Latency.Percentile(99)), Ms(result.Latency.Percentile(99.9)), result.Errors.ToString(CultureInfo.InvariantCulture));
        }

        await Open("O-B", async () => await Baseline.BareAsync());
        await using (var fakes = await Fakes.StartAsync(TimeSpan.Zero, options.Pipelines))
        {
            await Open("O-sqlite", async () => await Service.StartAsync("S   service, embedded (SQLite)", fakes.GitHub, fakes.Kubernetes, NewDirectory(), null));
        }

        if (redis is not null)
        {
            await using var fakes = await Fakes.StartAsync(TimeSpan.Zero, options.Pipelines);
            await Open("O-redis", async () => await Service.StartAsync("S   service, Redis mode (1 silo)", fakes.GitHub, fakes.Kubernetes, NewDirectory(), redis));
        }

        Console.WriteLine();
    }

    /// <summary>Accepted → applied across many refs with a slow API: throughput against the ideal, order, loss.</summary>
    public async Task EndToEndAsync()
    {
        var events = options.EndToEndRefs * options.EventsPerRef;
        var latency = options.ApiLatency;
        Console.WriteLine($"## End to end: {options.EndToEndRefs} refs × {options.EventsPerRef} events, every GitHub and Kubernetes call takes {latency.TotalMilliseconds:0} ms");
        Console.WriteLine();
        var sequential = SequentialCallsPerEvent;
        var mode = options.Pipelines == 0
            ? "Single-file mode (.ci/workflow.yaml). Each event costs one GitHub read and one Kubernetes create (discovery is cached, the delivery-label lookup only runs on retries), "
            : $"Pipeline mode, {options.Pipelines} pipeline{(options.Pipelines == 1 ? "" : "s")} without rules in .ci (every one runs). Each event costs one listing of .ci " +
                $"(the blobs are read once, by the warm-up) and {options.Pipelines} Kubernetes create{(options.Pipelines == 1 ? "" : "s")} in file-name order, ";
        Console.WriteLine(mode + $"so one ref can apply at most 1 / ({sequential * latency.TotalMilliseconds:0} ms) events per second; the ideal is refs / {sequential * latency.TotalMilliseconds:0} ms. " +
            "An event is applied when the objects of all its pipelines are. GitHub requests: every request the fake GitHub answered from the end of the " +
            "warm-up until the last event was applied, per event (commit statuses are off: GitHub:ReportStatus unset); API calls add the Kubernetes calls.");
        Console.WriteLine();
        Table("store", "accepted/s", "applied/s", "ideal/s", "% of ideal", "e2e p50 ms", "e2e p99 ms", "GitHub requests/event", "API calls/event", "lost", "duplicates", "order violations");
        List<string> notes = [await EndToEndRowAsync("embedded (SQLite)", null, events, latency)];
        if (redis is not null)
        {
            notes.Add(await EndToEndRowAsync("Redis (1 silo)", redis, events, latency));
        }

        Console.WriteLine();
        foreach (var note in notes)
        {
            Console.WriteLine(note);
        }

        Console.WriteLine();
    }

    /// <summary>
    /// The API calls one event makes one after the other: the manifest's read (single-file mode) or the listing of
    /// <c>.ci</c> (pipelines, whose blobs a warm-up has read), then each pipeline's create.
    /// </summary>
    private int SequentialCallsPerEvent => 1 + Math.Max(1, options.Pipelines);

    /// <summary>
    /// Cost per event and memory per ref as the number of refs grows. Each size runs two rounds on fresh refs in
    /// the same service: the first shows what touching N refs leaves behind after they left memory, the second
    /// whether that grows with every N refs more (a leak) or was a high-water mark reached once (tables that keep
    /// the capacity they grew to).
    /// </summary>
    public async Task ScaleAsync()
    {
        Console.WriteLine($"## Scale: {options.ScaleEvents:N0} events spread over N refs (embedded, API latency 0)");
        Console.WriteLine();
        Table("refs", "accepted/s", "applied/s", "CPU µs/event", "working set MB", "heap KB/ref, active", "heap KB/ref, after deactivation",
            "heap MB before → after", "second round: heap MB after → after", "lost", "order violations");
        foreach (var refs in options.ScaleRefs)
        {
            await using var fakes = await Fakes.StartAsync(TimeSpan.Zero, options.Pipelines);
            await using var service = await Service.StartAsync("scale", fakes.GitHub, fakes.Kubernetes, NewDirectory(), null,
                new Dictionary<string, string> { ["Orleans:CollectionAge"] = "00:10:00", ["Orleans:ReminderRefreshPeriod"] = ReminderRefresh.ToString() });
            using var load = new Load(service.Address, options.Concurrency);

            // A warm-up on refs of their own, so JIT and pools are not charged to the measured refs.
            var tracker = new Tracker(options.Pipelines);
            fakes.Kubernetes.Created = tracker.Created;
            var warm = new Webhooks.Sequence($"w{++runs}", 100);
            await load.ClosedLoopAsync(options.Concurrency, options.Warmup, warm.Next, tracker.Ack);
            await tracker.WaitAllAppliedAsync(TimeSpan.FromMinutes(2));
            var management = service.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
            await DeactivateAllAsync(management);
            tracker = null!;
            fakes.Kubernetes.Created = null;
            var heapBefore = await SettledHeapAsync();

            var first = await ScaleRoundAsync(fakes, load, management, refs);
            var second = await ScaleRoundAsync(fakes, load, management, refs);
            Row(refs.ToString("N0", CultureInfo.InvariantCulture), first.AcceptedPerSecond.ToString("N0", CultureInfo.InvariantCulture),
                first.AppliedPerSecond.ToString("N0", CultureInfo.InvariantCulture),
                first.CpuMicrosecondsPerEvent.ToString("N0", CultureInfo.InvariantCulture),
                (first.WorkingSet / 1048576.0).ToString("N0", CultureInfo.InvariantCulture),
                ((first.HeapActive - heapBefore) / 1024.0 / refs).ToString("N1", CultureInfo.InvariantCulture),
                ((first.HeapAfter - heapBefore) / 1024.0 / refs).ToString("N2", CultureInfo.InvariantCulture),
                Growth(heapBefore, first.HeapAfter), Growth(first.HeapAfter, second.HeapAfter),
                $"{first.Lost} + {second.Lost}", $"{first.Violations} + {second.Violations}");
        }

        Console.WriteLine();
        Console.WriteLine("CPU is the whole process (service, load generator and fakes together), first round. Heap per ref: managed heap after a full GC, " +
            "with the ref's activation in memory (\"active\") and after every activation was collected and the reminder service " +
            "read its table again (Orleans:ReminderRefreshPeriod 5 s in this run; a dropped reminder leaves memory only then). " +
            "Second round: as many fresh refs again in the same service, the heap after their deactivation against the first round's.");
        Console.WriteLine();

        static string Growth(long from, long to) =>
            string.Create(CultureInfo.InvariantCulture, $"{from / 1048576.0:N1} → {to / 1048576.0:N1} ({(to - from) * 100.0 / from:+0.0;-0.0} %)");
    }

    private sealed record ScaleRound(double AcceptedPerSecond, double AppliedPerSecond, double CpuMicrosecondsPerEvent, long WorkingSet,
        long HeapActive, long HeapAfter, int Lost, int Violations);

    /// <summary>One round of the scale run: <see cref="BenchOptions.ScaleEvents"/> pushes over <paramref name="refs"/> fresh refs, applied, then deactivated.</summary>
    private async Task<ScaleRound> ScaleRoundAsync(Fakes fakes, Load load, IManagementGrain management, int refs)
    {
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var tracker = new Tracker(options.Pipelines);
        fakes.Kubernetes.Created = tracker.Created;
        var stream = new Webhooks.Sequence($"s{++runs}", refs);
        var origin = Stopwatch.GetTimestamp();
        var acceptedPerSecond = await SendAsync(load, stream, refs, options.ScaleEvents, tracker);
        var complete = await tracker.WaitAllAppliedAsync(TimeSpan.FromMinutes(5));
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var (applied, appliedPerSecond, lost, violations) = (tracker.Applied, tracker.AppliedPerSecond, tracker.Lost, tracker.OrderViolations);
        Check(tracker, complete);
        foreach (var line in tracker.DescribeViolations(origin))
        {
            await Console.Error.WriteLineAsync(line);
        }

        // The benchmark's own bookkeeping is let go before the heap is measured.
        tracker = null!;
        fakes.Kubernetes.Created = null;
        await WaitIdleAsync(management, refs);
        var heapActive = Heap();
        var workingSet = Process.GetCurrentProcess().WorkingSet64;
        await DeactivateAllAsync(management);
        var heapAfter = await SettledHeapAsync();
        return new ScaleRound(acceptedPerSecond, appliedPerSecond, cpu.TotalMicroseconds / applied, workingSet, heapActive, heapAfter, lost, violations);
    }

    // The scale run's reminder refresh, short so that a measurement after deactivation need not wait Orleans' 5 minutes.
    private static readonly TimeSpan ReminderRefresh = TimeSpan.FromSeconds(5);

    /// <summary>Failure runs: loss, duplicates and order must stay 0.</summary>
    public async Task FaultsAsync()
    {
        Console.WriteLine("## Faults");
        Console.WriteLine();
        Table("run", "events", "time to apply all s", "applied/s", "lost", "duplicates", "order violations", "notes");

        await FaultRowAsync("Kubernetes API fails 30% of calls", 20, 25, TimeSpan.Zero, fakes => fakes.Kubernetes.FailureRate = 0.3,
            "retried with backoff (50 ms base in this run)");
        await FaultRowAsync("GitHub answers in 500 ms", 20, 5, TimeSpan.Zero, fakes => fakes.GitHub.Latency = TimeSpan.FromMilliseconds(500),
            "ideal 20 refs / 0.5 s = 40/s");
        if (redis is not null)
        {
            await KilledSiloRowAsync();
        }
        else
        {
            Row("Redis: one of two silos killed", "-", "-", "-", "-", "-", "-", "skipped: no redis-server");
        }

        Console.WriteLine();
    }

    /// <summary>Prints the row; returns a line on the GitHub requests it counted, by kind, in the warm-up and the measured events.</summary>
    private async Task<string> EndToEndRowAsync(string name, string? redisConnection, int events, TimeSpan latency)
    {
        await using var fakes = await Fakes.StartAsync(latency, options.Pipelines);
        var calls = 0;
        fakes.Kubernetes.Hold = r =>
        {
            // Discovery documents are fetched once and cached; count the calls each event makes.
            if (r.Method != "GET" || r.Query.Contains("labelSelector", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref calls);
            }

            return Task.CompletedTask;
        };
        var gitHubRequests = 0;
        var byKind = new GitHubRequestKinds();
        fakes.GitHub.Answered = r =>
        {
            Interlocked.Increment(ref gitHubRequests);
            byKind.Count(r.Path);
        };
        await using var service = await Service.StartAsync(name, fakes.GitHub, fakes.Kubernetes, NewDirectory(), redisConnection);
        using var load = new Load(service.Address, options.Concurrency);

        // Warm up on refs of their own (JIT, pools, discovery cache), then measure on fresh refs.
        var warmup = new Tracker(options.Pipelines);
        fakes.Kubernetes.Created = warmup.Created;
        await load.ClosedLoopAsync(options.Concurrency, options.Warmup, new Webhooks.Sequence($"ew{++runs}", options.EndToEndRefs).Next, warmup.Ack);
        await warmup.WaitAllAppliedAsync(TimeSpan.FromMinutes(5));
        Interlocked.Exchange(ref calls, 0);
        Interlocked.Exchange(ref gitHubRequests, 0);
        var warmupKinds = byKind.Take();
        var tracker = new Tracker(options.Pipelines);
        fakes.Kubernetes.Created = tracker.Created;
        var stream = new Webhooks.Sequence($"e{++runs}", options.EndToEndRefs);
        var acceptedPerSecond = await SendAsync(load, stream, options.EndToEndRefs, events, tracker);
        var complete = await tracker.WaitAllAppliedAsync(TimeSpan.FromMinutes(5));
        var gitHubPerEvent = Volatile.Read(ref gitHubRequests) / (double)Math.Max(1, tracker.Applied);
        var kubernetesPerEvent = Volatile.Read(ref calls) / (double)Math.Max(1, tracker.Applied);
        var measuredKinds = byKind.Take();
        var ideal = options.EndToEndRefs / (SequentialCallsPerEvent * latency.TotalSeconds);
        Check(tracker, complete);
        Row(name, acceptedPerSecond.ToString("N0", CultureInfo.InvariantCulture), tracker.AppliedPerSecond.ToString("N0", CultureInfo.InvariantCulture),
            ideal.ToString("N0", CultureInfo.InvariantCulture), (100 * tracker.AppliedPerSecond / ideal).ToString("N0", CultureInfo.InvariantCulture) + " %",
            Ms(tracker.EndToEnd.Percentile(50)), Ms(tracker.EndToEnd.Percentile(99)),
            gitHubPerEvent.ToString("N2", CultureInfo.InvariantCulture),
            (gitHubPerEvent + kubernetesPerEvent).ToString("N2", CultureInfo.InvariantCulture),
            tracker.Lost.ToString(CultureInfo.InvariantCulture), tracker.Duplicates.ToString(CultureInfo.InvariantCulture), tracker.OrderViolations.ToString(CultureInfo.InvariantCulture));
        return string.Create(CultureInfo.InvariantCulture,
            $"- {name}: GitHub requests in the warm-up, {warmup.Applied:N0} events: {warmupKinds}; in the measured {tracker.Applied:N0} events: {measuredKinds}.");
    }

    /// <summary>The GitHub requests of an e2e row by kind, counted as the fake answers them.</summary>
    private sealed class GitHubRequestKinds
    {
        private int contents;
        private int blobs;
        private int statuses;
        private int other;

        public void Count(string path)
        {
            if (path.Contains("/contents/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref contents);
            }
            else if (path.Contains("/git/blobs/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref blobs);
            }
            else if (path.Contains("/statuses/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref statuses);
            }
            else
            {
                Interlocked.Increment(ref other);
            }
        }

        /// <summary>The counts so far, which start again from 0.</summary>
        public string Take() => string.Create(CultureInfo.InvariantCulture,
            $"{Interlocked.Exchange(ref contents, 0):N0} contents (file reads or listings of .ci), {Interlocked.Exchange(ref blobs, 0):N0} blob reads, " +
            $"{Interlocked.Exchange(ref statuses, 0):N0} statuses, {Interlocked.Exchange(ref other, 0):N0} other");
    }

    private async Task FaultRowAsync(string name, int refs, int perRef, TimeSpan latency, Action<Fakes> breakThem, string notes)
    {
        await using var fakes = await Fakes.StartAsync(latency, options.Pipelines, retain: true);
        await using var service = await Service.StartAsync(name, fakes.GitHub, fakes.Kubernetes, NewDirectory(), null);
        var tracker = new Tracker(options.Pipelines);
        fakes.Kubernetes.Created = tracker.Created;
        breakThem(fakes);
        using var load = new Load(service.Address, options.Concurrency);
        var stream = new Webhooks.Sequence($"f{++runs}", refs);
        var started = Stopwatch.GetTimestamp();
        await SendAsync(load, stream, refs, refs * perRef, tracker, Math.Min(options.Concurrency, 16));
        var complete = await tracker.WaitAllAppliedAsync(TimeSpan.FromMinutes(5));
        Check(tracker, complete);
        var total = Stopwatch.GetElapsedTime(started, tracker.LastCreated);
        Row(name, tracker.Acked.ToString(CultureInfo.InvariantCulture), total.TotalSeconds.ToString("N1", CultureInfo.InvariantCulture),
            (tracker.Applied / total.TotalSeconds).ToString("N0", CultureInfo.InvariantCulture), tracker.Lost.ToString(CultureInfo.InvariantCulture),
            tracker.Duplicates.ToString(CultureInfo.InvariantCulture), tracker.OrderViolations.ToString(CultureInfo.InvariantCulture), notes);
    }

    /// <summary>Two silo processes on one Redis; one is killed with SIGKILL while webhooks keep arriving.</summary>
    private async Task KilledSiloRowAsync()
    {
        await using var fakes = await Fakes.StartAsync(TimeSpan.FromMilliseconds(20), options.Pipelines, retain: true);
        var tracker = new Tracker(options.Pipelines);
        fakes.Kubernetes.Created = tracker.Created;
        var serviceId = "bench-kill-" + Guid.NewGuid().ToString("N")[..6];
        Task<SiloProcess> StartSilo() => SiloProcess.StartAsync(ServiceSettings.Combine(
            Service.Common(fakes.GitHub, fakes.Kubernetes, NewDirectory()), ServiceSettings.FastRecovery, ServiceSettings.RedisSilo(redis!),
            new Dictionary<string, string> { ["Orleans:ServiceId"] = serviceId }, Service.SiloMode(fakes.GitHub)));
        await using var survivor = await StartSilo();
        var doomed = await StartSilo();
        using var toSurvivor = new Load(survivor.Address, 8);
        using var toDoomed = new Load(doomed.Address, 8);
        var stream = new Webhooks.Sequence($"k{++runs}", 20);
        var primed = 0;
        await toSurvivor.ClosedLoopAsync(1, null, () => Interlocked.Increment(ref primed) <= 20 ? stream.Next() : null, tracker.Ack);
        var killAt = long.MaxValue;
        var killed = false;
        var started = Stopwatch.GetTimestamp();
        var sending = Task.WhenAll(
            toSurvivor.ClosedLoopAsync(8, TimeSpan.FromSeconds(6), stream.Next, tracker.Ack),
            toDoomed.ClosedLoopAsync(8, TimeSpan.FromSeconds(6), () => Volatile.Read(ref killed) ? null : stream.Next(), tracker.Ack));
        await Task.Delay(TimeSpan.FromSeconds(3));
        Volatile.Write(ref killed, true);
        killAt = Stopwatch.GetTimestamp();
        await doomed.KillAsync();
        await sending;
        var complete = await tracker.WaitAllAppliedAsync(TimeSpan.FromMinutes(3));
        var recovery = Stopwatch.GetElapsedTime(killAt, tracker.LastCreatedOfAckedBefore(killAt));
        foreach (var line in tracker.DescribeDuplicates(killAt))
        {
            Console.WriteLine("DUPLICATE " + line);
        }

        Check(tracker, complete);
        var total = Stopwatch.GetElapsedTime(started, tracker.LastCreated);
        Row("Redis: one of two silos killed (SIGKILL) mid-run", tracker.Acked.ToString(CultureInfo.InvariantCulture),
            total.TotalSeconds.ToString("N1", CultureInfo.InvariantCulture),
            (tracker.Applied / total.TotalSeconds).ToString("N0", CultureInfo.InvariantCulture), tracker.Lost.ToString(CultureInfo.InvariantCulture),
            tracker.Duplicates.ToString(CultureInfo.InvariantCulture), tracker.OrderViolations.ToString(CultureInfo.InvariantCulture),
            $"everything acknowledged before the kill applied {recovery.TotalSeconds:N1} s after it (probe 1 s × 2 missed, reminder period 2 s in this run)");
    }

    /// <summary>
    /// Sends <paramref name="events"/> pushes from many connections at once, where they race each other as
    /// GitHub's deliveries may, except that every ref's creating push is answered before its next push
    /// leaves (GitHub creates a branch with one push; later pushes come after it). Returns events
    /// acknowledged per second over both phases.
    /// </summary>
    private async Task<double> SendAsync(Load load, Webhooks.Sequence stream, int refs, int events, Tracker tracker, int? concurrency = null)
    {
        var connections = concurrency ?? options.Concurrency;
        var started = Stopwatch.GetTimestamp();
        var sent = 0;
        var creating = Math.Min(refs, events);
        var first = await load.ClosedLoopAsync(connections, null, () => Interlocked.Increment(ref sent) <= creating ? stream.Next() : null, tracker.Ack);
        sent = creating;
        var rest = await load.ClosedLoopAsync(connections, null, () => Interlocked.Increment(ref sent) <= events ? stream.Next() : null, tracker.Ack);
        return (first.Accepted + rest.Accepted) / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private void Check(Tracker tracker, bool complete)
    {
        if (!complete || tracker.Lost > 0 || tracker.Duplicates > 0 || tracker.OrderViolations > 0)
        {
            Failed = true;
        }
    }

    /// <summary>
    /// Collects every activation and waits until they are gone (at most 5 minutes): a ref's deactivation drops
    /// its reminder, one reminder-table write each, so 100,000 refs take a while, and a heap measured earlier
    /// counts the deactivations still in flight.
    /// </summary>
    private static async Task DeactivateAllAsync(IManagementGrain management)
    {
        await management.ForceActivationCollection(TimeSpan.Zero);
        var waited = Stopwatch.StartNew();
        while (await management.GetTotalActivationCount() > 50 && waited.Elapsed < TimeSpan.FromMinutes(5))
        {
            await Task.Delay(250);
            await management.ForceActivationCollection(TimeSpan.Zero);
        }
    }

    private static async Task WaitIdleAsync(IManagementGrain management, int refs)
    {
        // Refs finish their last write shortly after their last apply; let the activations settle.
        for (var i = 0; i < 100 && await management.GetTotalActivationCount() < refs; i++)
        {
            await Task.Delay(20);
        }

        await Task.Delay(500);
    }

    /// <summary>
    /// The heap once Orleans' reminder service has read its table again (a dropped reminder leaves the silo's
    /// memory only then) and two full collections a second apart agree within 1 %; at most a minute.
    /// </summary>
    private static async Task<long> SettledHeapAsync()
    {
        var waited = Stopwatch.StartNew();
        var heap = Heap();
        while (waited.Elapsed < TimeSpan.FromMinutes(1))
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var previous = heap;
            heap = Heap();
            if (waited.Elapsed > 2 * ReminderRefresh && Math.Abs(heap - previous) < previous / 100)
            {
                break;
            }
        }

        return heap;
    }

    private static long Heap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private string NewDirectory() => Directory.CreateDirectory(Path.Combine(directory, Guid.NewGuid().ToString("N")[..8])).FullName;

    private static string Ratio(Dictionary<string, LoadResult> results, string a, string b) =>
        results.TryGetValue(a, out var x) && results.TryGetValue(b, out var y) ? $"{x.PerSecond / y.PerSecond:P0}" : "n/a";

    private static string Ms(double value) => double.IsNaN(value) ? "-" : value.ToString(value < 10 ? "N2" : "N1", CultureInfo.InvariantCulture);

    private static void Table(params string[] headers)
    {
        Console.WriteLine("| " + string.Join(" | ", headers) + " |");
        Console.WriteLine("|" + string.Concat(headers.Select(_ => "---|")));
    }

    private static void Row(params string[] cells) => Console.WriteLine("| " + string.Join(" | ", cells) + " |");
}

/// <summary>Fake GitHub and Kubernetes APIs that forget what they served, so long runs stay flat in memory.</summary>
public sealed class Fakes : IAsyncDisposable
{
    private Fakes(FakeGitHubApi github, FakeKubernetesApi kubernetes)
    {
        GitHub = github;
        Kubernetes = kubernetes;
    }

    public FakeGitHubApi GitHub { get; }

    public FakeKubernetesApi Kubernetes { get; }

    /// <param name="latency">Added to every GitHub and Kubernetes call.</param>
    /// <param name="pipelines">
    /// 0: every repository holds <c>.ci/workflow.yaml</c> (the single-file mode); N: it holds the pipelines
    /// <c>.ci/p1.yaml</c> … <c>.ci/pN.yaml</c> instead, and the services started against these fakes run in the pipeline mode.
    /// </param>
    /// <param name="retain">
    /// Keep created objects. Fault runs need it: after a crash the service looks for objects by their delivery
    /// label, and a fake that forgets them would make it create them again.
    /// </param>
    public static async Task<Fakes> StartAsync(TimeSpan latency, int pipelines, bool retain = false)
    {
        var github = await FakeGitHubApi.StartAsync();
        var kubernetes = await FakeKubernetesApi.StartAsync();
        github.Retain = false;
        kubernetes.Retain = retain;
        github.Latency = latency;
        kubernetes.Latency = latency;
        if (pipelines == 0)
        {
            github.AnyManifest = Encoding.UTF8.GetBytes(SampleManifest.Workflow);
        }
        else
        {
            github.AnyPipelines = Pipelines(pipelines);
        }

        return new Fakes(github, kubernetes);
    }

    /// <summary>
    /// <c>p1.yaml</c> … <c>pN.yaml</c>, each the sample Workflow under a generateName of its own (so each is a blob of its
    /// own, read and parsed once), without rules: every pipeline runs for every event.
    /// </summary>
    public static IReadOnlyDictionary<string, byte[]> Pipelines(int count) =>
        Enumerable.Range(1, count).ToDictionary(i => $"p{i}.yaml",
            i => Encoding.UTF8.GetBytes(SampleManifest.Workflow.Replace("generateName: ci-", $"generateName: p{i}-", StringComparison.Ordinal)));

    public async ValueTask DisposeAsync()
    {
        await GitHub.DisposeAsync();
        await Kubernetes.DisposeAsync();
    }
}

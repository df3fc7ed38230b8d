using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;

namespace CiTrigger.Bench;

/// <summary>
/// End to end with run following (issue 13): the fake cluster plays the Argo controller and marks each Workflow
/// Succeeded a fixed delay after it was created, and an event is complete when its commit status turns
/// <c>success</c>. Each store gets two rows from the same run: following off (today's behaviour: success once the
/// objects are applied) and following on (success once the follower saw the Workflow succeed). Token mode, statuses on.
/// </summary>
public sealed class Following(BenchOptions options, string? redis, Func<string> newDirectory)
{
    private static readonly TimeSpan RunTime = TimeSpan.FromMilliseconds(200);

    /// <summary>State changes of a Workflow the follower sees: created, succeeded.</summary>
    private const int StateChangesPerRun = 2;

    /// <summary>True once a row did not complete every acknowledged event's check, or following cost more than it may.</summary>
    public bool Failed { get; private set; }

    public async Task RunAsync(Func<Webhooks.Sequence> newStream)
    {
        var events = options.EndToEndRefs * options.EventsPerRef;
        Console.WriteLine($"## End to end with run following: {options.EndToEndRefs} refs × {options.EventsPerRef} events, every API call takes {options.ApiLatency.TotalMilliseconds:0} ms, each Workflow runs {RunTime.TotalMilliseconds:0} ms");
        Console.WriteLine();
        Console.WriteLine("A check is complete when its commit status turns success: with following off once the objects are applied (today), " +
            "with following on once the follower saw the Workflow succeed. Calls count the service's requests to each fake (GitHub: manifest, statuses; " +
            "Kubernetes: creates, lists, watch connections); watch events are the lines the fake cluster streamed. The test's own status writes " +
            "(the controller's part) happen in both rows and are not requests. CPU is the whole benchmark process (service, fakes, load) per event.");
        Console.WriteLine();
        Console.WriteLine("| store | following | events | checks completed/s | accept → check p50 ms | GitHub calls/event | Kubernetes calls/event | watch events/event | CPU ms/event | incomplete |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        var verdicts = new List<string>();
        foreach (var (store, connection) in new[] { ("embedded (SQLite)", (string?)null), ("Redis (1 silo)", redis) })
        {
            if (store.StartsWith("Redis", StringComparison.Ordinal) && connection is null)
            {
                continue;
            }

            var off = await RowAsync(store, connection, follow: false, events, newStream());
            var on = await RowAsync(store, connection, follow: true, events, newStream());
            verdicts.Add(Compare(store, off, on));
        }

        Console.WriteLine();
        foreach (var verdict in verdicts)
        {
            Console.WriteLine(verdict);
        }

        Console.WriteLine();
    }

    /// <summary>
    /// What following added, per event, and whether it stayed within one watch event per state change with no
    /// per-object requests to the cluster (creates the same, lists and watches a bounded few for the whole run).
    /// </summary>
    private string Compare(string store, Row off, Row on)
    {
        var extraKubernetes = on.KubernetesPerEvent - off.KubernetesPerEvent;
        var withinWatch = on.WatchEventsPerEvent <= StateChangesPerRun;
        // Lists and watch connections are a few for the whole run, more only when a watch broke: far from one per event.
        var withinRequests = extraKubernetes < 0.05;
        Failed |= !withinWatch || !withinRequests;
        return string.Create(CultureInfo.InvariantCulture,
            $"- {store}: following adds {on.CpuPerEvent - off.CpuPerEvent:N2} ms CPU, {on.GitHubPerEvent - off.GitHubPerEvent:N2} GitHub calls " +
            $"and {extraKubernetes:N3} Kubernetes calls per event ({extraKubernetes * on.Events:N0} in all: lists and watch connections, more after a broken watch) and " +
            $"{on.WatchEventsPerEvent:N2} watch events per event for {StateChangesPerRun} state changes " +
            $"({(withinWatch && withinRequests ? "within" : "OVER")} one watch event per state change, no per-object request); " +
            $"checks completed/s {on.CompletedPerSecond / Math.Max(0.001, off.CompletedPerSecond):P0} of following off (each run takes {RunTime.TotalMilliseconds:0} ms). ") +
            "The CPU and GitHub calls added are the run's own record, not the watch: per event one more ref-state write (the run's result in the " +
            "history), the unfinished-run set's add and remove, and the in-progress status (skipped when the result supersedes it first).";
    }

    private async Task<Row> RowAsync(string store, string? redisConnection, bool follow, int events, Webhooks.Sequence stream)
    {
        await using var fakes = await Fakes.StartAsync(options.ApiLatency, options.Pipelines, retain: true);
        fakes.Kubernetes.RunsSucceed = false;

        // Statuses are accepted only for commits the repository has, as on GitHub.
        for (var refIndex = 0; refIndex < options.EndToEndRefs; refIndex++)
        {
            var repository = fakes.GitHub.Repo($"bench/r{refIndex % 100}");
            for (var sequence = 0; sequence < options.EventsPerRef; sequence++)
            {
                repository.Commits.Add(Webhooks.Sha(refIndex, sequence));
            }
        }

        // A revision is complete once each of its checks (with pipelines: one a pipeline, "{context}/{pipeline}") succeeded.
        var completed = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var succeeded = new ConcurrentDictionary<(string Revision, string Context), bool>();
        var successes = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var gitHubCalls = 0;
        fakes.GitHub.Answered = r =>
        {
            Interlocked.Increment(ref gitHubCalls);
            if (r is { Method: "POST", Status: 201 } && r.Path.Contains("/statuses/", StringComparison.Ordinal)
                && JsonNode.Parse(r.Body) is { } status && status["state"]?.GetValue<string>() == "success")
            {
                var revision = r.Path[(r.Path.LastIndexOf('/') + 1)..];
                if (succeeded.TryAdd((revision, status["context"]?.GetValue<string>() ?? ""), true)
                    && successes.AddOrUpdate(revision, 1, (_, n) => n + 1) >= Math.Max(1, options.Pipelines))
                {
                    completed.TryAdd(revision, Stopwatch.GetTimestamp());
                }
            }
        };
        var kubernetesCalls = 0;
        fakes.Kubernetes.Hold = _ =>
        {
            Interlocked.Increment(ref kubernetesCalls);
            return Task.CompletedTask;
        };
        var flips = new List<Task>();
        fakes.Kubernetes.Created = obj =>
        {
            var workflow = obj["metadata"]!["name"]!.GetValue<string>();
            lock (flips)
            {
                flips.Add(FinishAsync(fakes.Kubernetes, workflow));
            }
        };
        await using var service = await Service.StartAsync(store, fakes.GitHub, fakes.Kubernetes, newDirectory(), redisConnection, new Dictionary<string, string>
        {
            ["GitHub:Token"] = FakeGitHubApi.Token,
            ["GitHub:ReportStatus"] = "true",
            ["Kubernetes:FollowRuns"] = follow ? "true" : "false",

            // Each ref's 50 pushes arrive faster than its runs end (about 20 in flight at once), and a ref follows at most
            // Handler:HistorySize runs: at the default 20 the oldest were let go as timed out, and their checks never succeeded.
            ["Handler:HistorySize"] = "200",
        });
        using var load = new Load(service.Address, options.Concurrency);
        var acked = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        var sent = 0;
        await load.ClosedLoopAsync(options.Concurrency, null, () => Interlocked.Increment(ref sent) <= events ? stream.Next() : null,
            (request, at) => acked[request.Revision] = at);

        // Complete when every acknowledged revision has its success status, or when nothing moved for a minute.
        var seen = 0;
        var lastProgress = Stopwatch.GetTimestamp();
        while (acked.Keys.Any(k => !completed.ContainsKey(k)) && Stopwatch.GetElapsedTime(lastProgress) < TimeSpan.FromSeconds(60))
        {
            if (completed.Count > seen)
            {
                seen = completed.Count;
                lastProgress = Stopwatch.GetTimestamp();
            }

            await Task.Delay(100);
        }

        var done = acked.Keys.Where(completed.ContainsKey).ToList();
        var elapsed = Stopwatch.GetElapsedTime(started, done.Count == 0 ? started : done.Max(k => completed[k]));
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var latencies = done.Select(k => Stopwatch.GetElapsedTime(acked[k], completed[k]).TotalMilliseconds).Order().ToList();
        var count = Math.Max(1, acked.Count);
        var row = new Row(acked.Count, done.Count / Math.Max(0.001, elapsed.TotalSeconds), (double)gitHubCalls / count,
            (double)kubernetesCalls / count, (double)fakes.Kubernetes.WatchEventsSent / count, cpu.TotalMilliseconds / count);
        var incomplete = acked.Count - done.Count;
        Failed |= incomplete > 0;
        Console.WriteLine("| " + string.Join(" | ",
            store,
            follow ? "on" : "off",
            acked.Count.ToString(CultureInfo.InvariantCulture),
            row.CompletedPerSecond.ToString("N0", CultureInfo.InvariantCulture),
            latencies.Count == 0 ? "-" : latencies[latencies.Count / 2].ToString("N0", CultureInfo.InvariantCulture),
            row.GitHubPerEvent.ToString("N2", CultureInfo.InvariantCulture),
            row.KubernetesPerEvent.ToString("N3", CultureInfo.InvariantCulture),
            row.WatchEventsPerEvent.ToString("N2", CultureInfo.InvariantCulture),
            row.CpuPerEvent.ToString("N2", CultureInfo.InvariantCulture),
            incomplete.ToString(CultureInfo.InvariantCulture)) + " |");
        Task[] pending;
        lock (flips)
        {
            pending = [.. flips];
        }

        await Task.WhenAll(pending);
        return row;
    }

    /// <summary>The Workflow's controller: after the run time, the Workflow has succeeded.</summary>
    private static async Task FinishAsync(FakeKubernetesApi kubernetes, string workflow)
    {
        await Task.Delay(RunTime);
        kubernetes.WriteStatus("argoproj.io/v1alpha1", "Workflow", "ci", workflow, new JsonObject { ["phase"] = "Succeeded" });
    }

    private sealed record Row(int Events, double CompletedPerSecond, double GitHubPerEvent, double KubernetesPerEvent, double WatchEventsPerEvent, double CpuPerEvent);
}

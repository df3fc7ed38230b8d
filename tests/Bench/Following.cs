using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;

namespace CiTrigger.Bench;

/// <summary>
/// End to end with run following: the fake cluster plays the Argo controller and marks each Workflow
/// Succeeded a fixed delay after it was created, and an event is complete when its commit status turns
/// <c>success</c> (the run's result, reported only after the follower saw it). Token mode, statuses on.
/// </summary>
public sealed class Following(BenchOptions options, Func<string> newDirectory)
{
    private static readonly TimeSpan RunTime = TimeSpan.FromMilliseconds(200);

    /// <summary>True once a run did not complete every acknowledged event's check.</summary>
    public bool Failed { get; private set; }

    public async Task RunAsync(Func<Webhooks.Sequence> newStream)
    {
        var events = options.EndToEndRefs * options.EventsPerRef;
        Console.WriteLine($"## End to end with run following: {options.EndToEndRefs} refs × {options.EventsPerRef} events, every API call takes {options.ApiLatency.TotalMilliseconds:0} ms, each Workflow runs {RunTime.TotalMilliseconds:0} ms");
        Console.WriteLine();
        Console.WriteLine("A check is complete when its commit status turns success, i.e. after the follower saw the Workflow finish. " +
            "API calls count both fakes (GitHub: manifest and statuses; Kubernetes: creates, lists, watches), not the test's own status writes. " +
            "CPU is the whole benchmark process (service, fakes and load) per event.");
        Console.WriteLine();
        Console.WriteLine("| store | events | checks completed/s | accept → check p50 ms | API calls/event | CPU ms/event | incomplete |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        if (Type.GetType("CiTrigger.Grains.Kubernetes.KubernetesRunFollower, Grains") is null)
        {
            Console.WriteLine("| embedded (SQLite) | - | - | - | - | - | skipped: this build has no run follower |");
            Console.WriteLine();
            return;
        }

        await RowAsync("embedded (SQLite)", events, newStream());
        Console.WriteLine();
    }

    private async Task RowAsync(string name, int events, Webhooks.Sequence stream)
    {
        await using var fakes = await Fakes.StartAsync(options.ApiLatency, retain: true);
        fakes.Kubernetes.RunsSucceed = false;
        fakes.GitHub.Retain = true;
        var kubernetesCalls = 0;
        fakes.Kubernetes.Hold = r =>
        {
            // The test's own controller writes are merge patches of the status; the service sends none here.
            if (!r.ContentType.StartsWith("application/merge-patch+json", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref kubernetesCalls);
            }

            return Task.CompletedTask;
        };
        using var controller = new HttpClient { BaseAddress = fakes.Kubernetes.BaseAddress };
        controller.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", FakeKubernetesApi.Token);
        var flips = new List<Task>();
        fakes.Kubernetes.Created = obj =>
        {
            var workflow = obj["metadata"]!["name"]!.GetValue<string>();
            lock (flips)
            {
                flips.Add(FinishAsync(controller, workflow));
            }
        };
        await using var service = await Service.StartAsync(name, fakes.GitHub, fakes.Kubernetes, newDirectory(), null, new Dictionary<string, string>
        {
            ["GitHub:Token"] = FakeGitHubApi.Token,
            ["GitHub:ReportStatus"] = "true",
        });
        using var load = new Load(service.Address, options.Concurrency);
        var acked = new System.Collections.Concurrent.ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        var sent = 0;
        await load.ClosedLoopAsync(options.Concurrency, null, () => Interlocked.Increment(ref sent) <= events ? stream.Next() : null,
            (request, at) => acked[request.Revision] = at);

        // Complete when every acknowledged revision has its success status, or when nothing moved for a while.
        var completed = new Dictionary<string, long>(StringComparer.Ordinal);
        var lastProgress = Stopwatch.GetTimestamp();
        while (completed.Count < acked.Count && Stopwatch.GetElapsedTime(lastProgress) < TimeSpan.FromSeconds(60))
        {
            var before = completed.Count;
            foreach (var sha in SuccessRevisions(fakes.GitHub))
            {
                completed.TryAdd(sha, Stopwatch.GetTimestamp());
            }

            if (completed.Count > before)
            {
                lastProgress = Stopwatch.GetTimestamp();
            }

            await Task.Delay(100);
        }

        var elapsed = Stopwatch.GetElapsedTime(started, completed.Count == 0 ? started : completed.Values.Max());
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var gitHubCalls = fakes.GitHub.Requests.Count;
        var latencies = acked.Where(a => completed.ContainsKey(a.Key)).Select(a => Stopwatch.GetElapsedTime(a.Value, completed[a.Key]).TotalMilliseconds).Order().ToList();
        var incomplete = acked.Count - acked.Keys.Count(completed.ContainsKey);
        Failed |= incomplete > 0;
        Console.WriteLine("| " + string.Join(" | ",
            name,
            acked.Count.ToString(CultureInfo.InvariantCulture),
            (completed.Count / elapsed.TotalSeconds).ToString("N0", CultureInfo.InvariantCulture),
            latencies.Count == 0 ? "-" : latencies[latencies.Count / 2].ToString("N0", CultureInfo.InvariantCulture),
            ((gitHubCalls + kubernetesCalls) / (double)Math.Max(1, acked.Count)).ToString("N2", CultureInfo.InvariantCulture),
            (cpu.TotalMilliseconds / Math.Max(1, acked.Count)).ToString("N2", CultureInfo.InvariantCulture),
            incomplete.ToString(CultureInfo.InvariantCulture)) + " |");
        Task[] pending;
        lock (flips)
        {
            pending = [.. flips];
        }

        await Task.WhenAll(pending);
    }

    /// <summary>The Workflow's controller: after the run time, the Workflow has succeeded.</summary>
    private static async Task FinishAsync(HttpClient controller, string workflow)
    {
        await Task.Delay(RunTime);
        using var patch = new StringContent("""{"status":{"phase":"Succeeded"}}""", Encoding.UTF8);
        patch.Headers.ContentType = new MediaTypeHeaderValue("application/merge-patch+json");
        using var answer = await controller.PatchAsync($"apis/argoproj.io/v1alpha1/namespaces/ci/workflows/{workflow}", patch);
    }

    private static IEnumerable<string> SuccessRevisions(FakeGitHubApi github) =>
        github.Requests
            .Where(r => r.Method == "POST" && r.Status == 201 && r.Path.Contains("/statuses/", StringComparison.Ordinal))
            .Where(r => JsonNode.Parse(r.Body)?["state"]?.GetValue<string>() == "success")
            .Select(r => r.Path[(r.Path.LastIndexOf('/') + 1)..]);
}

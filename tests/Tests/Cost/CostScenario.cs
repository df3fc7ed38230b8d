using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Processes;
using CiTrigger.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit;

namespace CiTrigger.Tests.Cost;

/// <summary>
/// The fixed scenario of the cost budget (issue 26). The service runs as a process of its own against the fake
/// GitHub (App mode, check runs on), the fake cluster and, for <c>redis</c>, a redis-server; it follows the runs. The
/// test plays the run controller. A round pushes once on each of 20 refs at once; when each event's Workflow was
/// created and the catalog shows it <c>running</c>, the test marks the 20 Workflows succeeded; the round ends when the
/// 20 checks completed and the catalog shows the events <c>succeeded</c>. First a warm-up round on 20 refs of their
/// own; then, measured, 10 rounds on 20 other refs (200 pushes). What is counted lies between a read of the service's
/// <c>/metrics</c>, of the fakes and of Redis' statistics before the first measured round and after the last.
/// <para>
/// Every wait is on a condition, none on time. The catalog is read straight from the store (the SQLite file, or Redis
/// with the scenario's own commands taken out of Redis' figures), never through the service, whose figures it would
/// change. The catalog's writes are debounced (<c>Handler:CatalogDelay</c>); the scenario sets the delay to
/// <see cref="CatalogDelay"/>, longer than a phase takes, and waits for each phase's catalog write, so an event costs
/// exactly two catalog writes of its ref line and its event line (one when its run started, one when it ended), as
/// with real runs that outlast the delay, instead of a number that follows the machine's speed.
/// </para>
/// </summary>
public sealed class CostScenario : IAsyncDisposable
{
    public const int Refs = 20;
    public const int Rounds = 10;
    public const int Events = Refs * Rounds;
    public const string Repository = "cost/budget";

    public const string StoreWrites = "store writes";
    public const string StoreBytes = "store bytes";
    public const string RedisWriteCommands = "Redis write commands";
    public const string RedisBytesReceived = "Redis bytes received";
    public const string GitHubRequests = "GitHub requests";
    public const string KubernetesRequests = "Kubernetes requests";
    public const string GrainCalls = "grain calls";
    public const string AllocatedBytes = "allocated bytes";

    /// <summary>
    /// The pipeline mode's variant of a store's scenario (<c>sqlite-pipelines</c>): each push commits three pipelines,
    /// <c>build</c> (the Workflow, no rules), <c>release</c> (<c>on-branch: release/*</c>) and <c>review</c>
    /// (<c>on-event: pull_request</c>), so an event applies one Workflow and reports two more checks, skipped.
    /// </summary>
    public const string PipelinesSuffix = "-pipelines";

    private static readonly Dictionary<string, string> PipelineFiles = new()
    {
        [".ci/build.yaml"] = SampleManifest.Workflow,
        [".ci/release.yaml"] = SampleManifest.Workflow.Replace("team: platform", "team: platform\n    k8s-webhook-handler.io/on-branch: release/*", StringComparison.Ordinal),
        [".ci/review.yaml"] = SampleManifest.Workflow.Replace("team: platform", "team: platform\n    k8s-webhook-handler.io/on-event: pull_request", StringComparison.Ordinal),
    };

    private static bool IsRedis(string store) => store.StartsWith("redis", StringComparison.Ordinal);

    private bool Pipelines => store.EndsWith(PipelinesSuffix, StringComparison.Ordinal);

    /// <summary>The figures of a store, in the order they are printed.</summary>
    public static IReadOnlyList<string> Figures(string store) => IsRedis(store)
        ? [StoreWrites, StoreBytes, RedisWriteCommands, RedisBytesReceived, GitHubRequests, KubernetesRequests, GrainCalls, AllocatedBytes]
        : [StoreWrites, StoreBytes, GitHubRequests, KubernetesRequests, GrainCalls, AllocatedBytes];

    /// <summary>
    /// The commands of Redis' statistics that change data. Redis counts the commands a script calls under their own
    /// names (Orleans' grain state and reminders write through scripts), so <c>evalsha</c> itself is not among them.
    /// </summary>
    private static readonly HashSet<string> RedisWrites = new(StringComparer.Ordinal)
    {
        "set", "setex", "psetex", "setnx", "del", "unlink", "expire", "pexpire", "hset", "hsetnx", "hmset", "hdel",
        "zadd", "zrem", "zpopmin", "zpopmax", "zremrangebyscore", "zremrangebylex", "rpush", "lpush", "incr",
    };

    /// <summary>The catalog's delay in the scenario, longer than the service takes for a phase of a round.</summary>
    public static readonly TimeSpan CatalogDelay = TimeSpan.FromSeconds(1);

    private const string ServiceId = "cost-budget";

    private static readonly TimeSpan PhaseTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// For profiling (docs/benchmarks.md): a directory where the scenario leaves <c>{store}.pid</c> (the service's
    /// process id) and <c>{store}.measuring</c>, then waits for <c>{store}.recording</c> before the measured rounds, and
    /// leaves <c>{store}.measured</c> after them, then waits for <c>{store}.stopped</c> (a trace's method names are
    /// written at its end, while the service still runs). The service then writes a perf map of every method
    /// (<c>DOTNET_PerfMapEnabled=1</c>, <c>DOTNET_ReadyToRun=0</c>: no precompiled code perf could not name;
    /// <c>DOTNET_EnableWriteXorExecute=0</c>: code where the map says it is; <c>DOTNET_TieredCompilation=0</c>: each method
    /// compiled once, optimized, not again in the background while profiled), and the warm-up lasts
    /// <see cref="ProfileWarmupRounds"/> rounds, so that every path has been compiled before the profile. The
    /// figures of such a run are not the budget's (<see cref="ProfileCatalogDelay"/>).
    /// </summary>
    public const string ProfileVariable = "CITRIGGER_COST_PROFILE";

    public const int ProfileWarmupRounds = 30;

    /// <summary>The catalog's delay when profiling: shorter, so the rounds follow each other closely and time-driven work weighs less.</summary>
    public static readonly TimeSpan ProfileCatalogDelay = TimeSpan.FromMilliseconds(100);

    public static readonly string? ProfileDirectory = Environment.GetEnvironmentVariable(ProfileVariable) is { Length: > 0 } profile ? profile : null;

    private readonly FakeGitHubApi github;
    private readonly FakeKubernetesApi kubernetes;
    private readonly AppIdentity app;
    private readonly RedisServer? redis;
    private readonly SiloProcess service;
    private readonly string database;
    private readonly string store;
    private readonly FakeGitHubApi.Repository repo;
    private readonly Dictionary<string, string> heads = new(StringComparer.Ordinal);

    private CostScenario(FakeGitHubApi github, FakeKubernetesApi kubernetes, AppIdentity app, RedisServer? redis, SiloProcess service, string database, string store)
    {
        this.store = store;
        this.github = github;
        this.kubernetes = kubernetes;
        this.app = app;
        this.redis = redis;
        this.service = service;
        this.database = database;
        repo = github.Repo(Repository);
    }

    public string Output => service.Output;

    /// <summary>Starts the fakes, Redis when <paramref name="store"/> is <c>redis</c>, and the service.</summary>
    public static async Task<CostScenario> StartAsync(string store)
    {
        var github = await FakeGitHubApi.StartAsync();
        var kubernetes = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        var app = AppIdentity.Register(github);
        github.Install(app.App, FollowingEnv.Installation, Repository);
        var redis = IsRedis(store) ? await RedisServer.StartAsync() : null;
        var directory = Directory.CreateTempSubdirectory("citrigger-cost-").FullName;
        var settings = FollowingEnv.Settings(github, kubernetes, app, directory, ServiceSettings.EmbeddedSilo(directory), new Dictionary<string, string>
        {
            // No reminder tick falls in the run: a ref's reminder is registered with its first event, and dropped only on a tick.
            ["Handler:ReminderPeriod"] = "00:10:00",
            ["Handler:CatalogDelay"] = (ProfileDirectory is null ? CatalogDelay : ProfileCatalogDelay).ToString(),
            ["Orleans:ServiceId"] = ServiceId,
        }, store.EndsWith(PipelinesSuffix, StringComparison.Ordinal) ? new Dictionary<string, string> { [SiloProcess.PipelineMode] = "true" } : null,
        redis is null ? null : new Dictionary<string, string>
        {
            ["Storage:Provider"] = "Redis",
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
        });
        try
        {
            var service = await SiloProcess.StartAsync(settings, environment: ProfileDirectory is null ? null : new Dictionary<string, string?>
            {
                ["DOTNET_PerfMapEnabled"] = "1",
                ["DOTNET_ReadyToRun"] = "0",
                ["DOTNET_EnableWriteXorExecute"] = "0",
                ["DOTNET_TieredCompilation"] = "0",
            });
            return new CostScenario(github, kubernetes, app, redis, service, Path.Combine(directory, "ci-trigger.db"), store);
        }
        catch
        {
            await DisposeAsync(github, kubernetes, app, redis);
            throw;
        }
    }

    /// <summary>The warm-up, then the measured rounds; the counts of the measured phase, in all (not yet per event).</summary>
    public async Task<Counts> RunAsync()
    {
        for (var round = 0; round < (ProfileDirectory is null ? 1 : ProfileWarmupRounds); round++)
        {
            await RoundAsync("warm", round);
        }

        // The exporter's first scrape builds its caches (and compiles its code): done here, not in the measured phase.
        await service.Client.GetStringAsync("/metrics");
        await ProfileMarkAsync("measuring", "recording");
        var before = await ReadAsync();
        for (var round = 0; round < Rounds; round++)
        {
            await RoundAsync("ref", round);
        }

        var after = await ReadAsync();
        await ProfileMarkAsync("measured", "stopped");
        return after - before;
    }

    public async ValueTask DisposeAsync()
    {
        await service.DisposeAsync();
        await DisposeAsync(github, kubernetes, app, redis);
    }

    private static async Task DisposeAsync(FakeGitHubApi github, FakeKubernetesApi kubernetes, AppIdentity app, RedisServer? redis)
    {
        await kubernetes.DisposeAsync();
        await github.DisposeAsync();
        app.Dispose();
        if (redis is not null)
        {
            await redis.DisposeAsync();
        }
    }

    /// <summary>One push on each of the refs <c>{prefix}-0</c>..<c>-19</c> at once, their runs started, then ended; returns when the catalog has them succeeded.</summary>
    private async Task RoundAsync(string prefix, int round)
    {
        var what = $"round {round} ({prefix})";
        var created = kubernetes.CreationsOf("Workflow").Count;
        var deliveries = await Task.WhenAll(Enumerable.Range(0, Refs).Select(i => PushAsync($"{prefix}-{i}", round)));
        await UntilAsync(async () => kubernetes.CreationsOf("Workflow").Count == created + Refs
            && CheckRuns(deliveries, c => c.Status == "in_progress")
            && await CatalogStatesAsync(deliveries, EventStates.Running), $"the {Refs} runs of {what} started, their checks in progress and the catalog showing them");

        foreach (var workflow in kubernetes.CreationsOf("Workflow").Skip(created))
        {
            FollowingEnv.WriteStatus(kubernetes, FollowingEnv.NameOf(workflow), "Succeeded");
        }

        await UntilAsync(async () => CheckRuns(deliveries, c => c.Status == "completed" && c.Conclusion == "success")
            && await CatalogStatesAsync(deliveries, EventStates.Succeeded), $"the {Refs} checks of {what} completed with success and the catalog showing them");
    }

    /// <summary>With <see cref="ProfileVariable"/> set: leaves the mark <paramref name="mark"/> and waits for the profiler's <paramref name="answer"/>.</summary>
    private async Task ProfileMarkAsync(string mark, string answer)
    {
        if (ProfileDirectory is null)
        {
            return;
        }

        await File.WriteAllTextAsync(Path.Combine(ProfileDirectory, $"{store}.pid"), service.Id.ToString(CultureInfo.InvariantCulture));
        await File.WriteAllTextAsync(Path.Combine(ProfileDirectory, $"{store}.{mark}"), "");
        await UntilAsync(() => Task.FromResult(File.Exists(Path.Combine(ProfileDirectory, $"{store}.{answer}"))), $"the profiler's {store}.{answer}");
    }

    /// <summary>Whether the check of each delivery (its <c>build</c> pipeline's, in the pipeline mode) is in <paramref name="state"/>.</summary>
    private bool CheckRuns(IReadOnlyCollection<string> deliveries, Func<FakeGitHubApi.CheckRun, bool> state)
    {
        var ids = Pipelines ? deliveries.Select(d => PipelineChecks.ExternalId(d, "build")).ToHashSet(StringComparer.Ordinal) : deliveries;
        return github.CheckRuns.Count(c => c.ExternalId is { } id && ids.Contains(id) && state(c)) == deliveries.Count;
    }

    /// <summary>Whether the catalog's recent events show every one of <paramref name="deliveries"/> in <paramref name="state"/>, read from the store itself.</summary>
    private async Task<bool> CatalogStatesAsync(IReadOnlyCollection<string> deliveries, string state)
    {
        if (redis is null)
        {
            await using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT delivery, state FROM events";
            await using var reader = await command.ExecuteReaderAsync();
            var states = new Dictionary<string, string>(StringComparer.Ordinal);
            while (await reader.ReadAsync())
            {
                states[reader.GetString(0)] = reader.GetString(1);
            }

            return deliveries.All(d => states.GetValueOrDefault(d) == state);
        }

        var lines = (await redis.CommandAsync(["HMGET", $"{ServiceId}/event-lines", .. deliveries])).Where(l => l.StartsWith('{'));
        return lines.Count(l => JsonNode.Parse(l)!["state"]!.GetValue<string>() == state) == deliveries.Count;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; the deadline is read from a monotonic clock (the machine's clock may jump).</summary>
    private async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(waited.Elapsed < PhaseTimeout, $"timed out after {PhaseTimeout.TotalSeconds:0} s waiting for {what}\n{service.Output}");
            await Task.Delay(20);
        }
    }

    private async Task<string> PushAsync(string branch, int round)
    {
        var after = Pipelines ? repo.CommitFiles(branch, PipelineFiles) : repo.Commit(branch, ".ci/workflow.yaml", SampleManifest.Workflow);
        string before;
        lock (heads)
        {
            before = heads.GetValueOrDefault(branch, Payloads.ZeroSha);
            heads[branch] = after;
        }

        var delivery = Guid.NewGuid().ToString();
        var body = Payloads.Installed(Payloads.Push(repo.FullName, $"refs/heads/{branch}", before, after), FollowingEnv.Installation);
        using var answer = await service.Client.SendAsync(TriggerHost.Webhook("push", Encoding.UTF8.GetBytes(body), "application/json", delivery));
        Assert.True(answer.StatusCode == HttpStatusCode.Accepted, $"push {round} of {branch}: {answer.StatusCode}");
        return delivery;
    }

    /// <summary>Every counter the scenario reads, by name: the figures' sources and the breakdowns printed under them.</summary>
    private async Task<Counts> ReadAsync()
    {
        var metrics = await service.Client.GetStringAsync("/metrics");

        // A figure whose metric went missing (renamed, no longer exported) must not read as a cost of nothing.
        double Metric(string name) => PrometheusText.Sample(metrics, name) ?? throw new InvalidOperationException($"{name} is not in the service's /metrics");
        var counts = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [StoreWrites] = Metric("citrigger_store_writes_total"),
            [StoreBytes] = Metric("citrigger_store_written_bytes_total"),
            [GitHubRequests] = github.Requests.Count,
            [KubernetesRequests] = kubernetes.Requests.Count,
            [GrainCalls] = Metric("orleans_messaging_processing_dispatcher_received_total"),
            [AllocatedBytes] = Metric("dotnet_gc_heap_total_allocated_bytes_total"),
        };
        foreach (var kind in github.Requests.GroupBy(r => $"GitHub {r.Method} {Shape(r.Path)}"))
        {
            counts[kind.Key] = kind.Count();
        }

        foreach (var kind in kubernetes.Requests.GroupBy(r => $"Kubernetes {r.Method} {Shape(r.Path)}{(r.Query.Contains("watch=", StringComparison.Ordinal) ? " (watch)" : "")}"))
        {
            counts[kind.Key] = kind.Count();
        }

        if (redis is not null)
        {
            await ReadRedisAsync(counts);
        }

        return new Counts(counts);
    }

    /// <summary>
    /// Redis' own statistics: calls per command (the write commands summed into a figure) and the bytes it received,
    /// less what the scenario sent itself (its reads of the catalog and of these statistics), counted up to this read.
    /// </summary>
    private async Task ReadRedisAsync(Dictionary<string, double> counts)
    {
        var lines = await redis!.CommandAsync("INFO", "all");
        var sent = redis.CommandsSent;
        counts[RedisWriteCommands] = 0;
        foreach (var line in lines)
        {
            if (line.StartsWith("cmdstat_", StringComparison.Ordinal))
            {
                var name = line["cmdstat_".Length..line.IndexOf(':', StringComparison.Ordinal)];
                var calls = double.Parse(line.Split(':')[1].Split(',')[0]["calls=".Length..], CultureInfo.InvariantCulture)
                    - sent.GetValueOrDefault(name);
                counts[$"Redis {name}"] = calls;
                if (RedisWrites.Contains(name))
                {
                    counts[RedisWriteCommands] += calls;
                }
            }
            else if (line.StartsWith("total_net_input_bytes:", StringComparison.Ordinal))
            {
                counts[RedisBytesReceived] = double.Parse(line.Split(':')[1], CultureInfo.InvariantCulture) - redis.BytesSent;
            }
        }
    }

    /// <summary>A path with its ids, names and revisions replaced, so requests of one kind group together.</summary>
    private static string Shape(string path) => string.Join('/', path.Split('/').Select(part =>
        part.Length >= 20 || (part.Length > 0 && part.All(char.IsAsciiDigit)) || part.StartsWith("ci-", StringComparison.Ordinal) ? "{id}" : part));

    /// <summary>Counters by name: the figures' sources and the request and command kinds.</summary>
    public sealed record Counts(IReadOnlyDictionary<string, double> Values)
    {
        public double this[string name] => Values.GetValueOrDefault(name);

        public static Counts operator -(Counts after, Counts before) =>
            new(after.Values.ToDictionary(v => v.Key, v => v.Value - before[v.Key], StringComparer.Ordinal));
    }
}

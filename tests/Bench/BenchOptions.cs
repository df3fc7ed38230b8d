using System.Globalization;

namespace CiTrigger.Bench;

/// <summary>Command-line options of the benchmark.</summary>
public sealed record BenchOptions(
    IReadOnlyList<string> Runs, IReadOnlyList<string>? Targets, TimeSpan Duration, TimeSpan Warmup, int Concurrency, double Rate, int AcceptRefs,
    int EndToEndRefs, int EventsPerRef, TimeSpan ApiLatency, string? Redis, IReadOnlyList<int> ScaleRefs, int ScaleEvents, int Pipelines)
{
    public const string Usage = """
        usage: Bench [--runs accept,e2e,follow,scale,faults] [--quick] [--seconds 10] [--warmup 10] [--concurrency 64]
                     [--rate 1000] [--refs 1000] [--e2e-refs 100] [--events-per-ref 50] [--api-latency-ms 5]
                     [--redis auto|none|host:port] [--scale-refs 10,1000,10000] [--scale-events 10000] [--targets B,D-sqlite,S-sqlite,A-sqlite,O-B,...]
                     [--pipelines 0]
        --pipelines N: 0 (the default) runs the service in the single-file mode (.ci/workflow.yaml); N >= 1 in the pipeline mode,
                       every repository holding N pipelines .ci/p1.yaml ... .ci/pN.yaml, each a Workflow, all without rules
        environment: BENCH_LOG=Warning (or Information) shows the services' log, Error only by default
        """;

    private static readonly HashSet<string> Known =
    [
        "runs", "quick", "seconds", "warmup", "concurrency", "rate", "refs", "e2e-refs", "events-per-ref", "api-latency-ms",
        "redis", "scale-refs", "scale-events", "targets", "pipelines",
    ];

    /// <summary>The options, or an <see cref="ArgumentException"/> naming the argument that is not one.</summary>
    public static BenchOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"unexpected argument '{args[i]}'");
            }

            if (!Known.Contains(args[i][2..]))
            {
                throw new ArgumentException($"unknown option '{args[i]}'");
            }

            values[args[i][2..]] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
        }

        var quick = values.ContainsKey("quick");
        string Get(string key, string fallback) => values.TryGetValue(key, out var v) ? v : fallback;
        int Int(string key, int fallback) => int.Parse(Get(key, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        return new BenchOptions(
            Get("runs", "accept,e2e,follow,scale,faults").Split(',', StringSplitOptions.RemoveEmptyEntries),
            values.TryGetValue("targets", out var targets) ? targets.Split(',', StringSplitOptions.RemoveEmptyEntries) : null,
            TimeSpan.FromSeconds(Int("seconds", quick ? 2 : 10)),
            TimeSpan.FromSeconds(Int("warmup", quick ? 2 : 10)),
            Int("concurrency", 64),
            Int("rate", 1000),
            Int("refs", 1000),
            Int("e2e-refs", 100),
            Int("events-per-ref", quick ? 10 : 50),
            TimeSpan.FromMilliseconds(Int("api-latency-ms", 5)),
            values.TryGetValue("redis", out var redisValue) ? redisValue : "auto",
            Get("scale-refs", quick ? "10,1000" : "10,1000,10000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList(),
            Int("scale-events", quick ? 2000 : 10000),
            Int("pipelines", 0) is var pipelines and >= 0 ? pipelines : throw new ArgumentException("--pipelines must be 0 or more"));
    }

    public override string ToString() =>
        $"runs={string.Join(',', Runs)} seconds={Duration.TotalSeconds} warmup={Warmup.TotalSeconds} concurrency={Concurrency} rate={Rate}/s refs={AcceptRefs} " +
        $"e2e-refs={EndToEndRefs} events-per-ref={EventsPerRef} api-latency={ApiLatency.TotalMilliseconds} ms redis={Redis} " +
        $"scale-refs={string.Join(',', ScaleRefs)} scale-events={ScaleEvents} pipelines={Pipelines}";
}

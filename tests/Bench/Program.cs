using System.Diagnostics;
using CiTrigger.Bench;
using CiTrigger.Tests.Fakes;

if (args is ["--help"] or ["-h"])
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
{
    await Console.Error.WriteLineAsync($"{e.Message}\n{BenchOptions.Usage}");
    return 2;
}

var directory = Directory.CreateTempSubdirectory("citrigger-bench-").FullName;
Console.WriteLine($"# k8s-webhook-handler benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
Console.WriteLine();
Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1 << 30)} GiB, .NET {Environment.Version}, " +
    $"{(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC, {(Debugger.IsAttached ? "debugger attached" : "no debugger")}" +
    $"{(typeof(BenchOptions).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false) is [DebuggableAttribute { IsJITOptimizerDisabled: true }] ? ", DEBUG BUILD: use -c Release" : "")}.");
Console.WriteLine($"Options: {options}");
Console.WriteLine();

await using var redis = options.Redis == "auto" ? await RedisServer.TryStartAsync() : null;
var redisConnection = redis?.ConnectionString ?? (options.Redis is { Length: > 0 } r and not ("auto" or "none") ? r : null);
if (options.Redis == "auto" && redis is null)
{
    Console.WriteLine("(redis-server not found: Redis rows skipped)");
    Console.WriteLine();
}

var scenarios = new Scenarios(options, directory, redisConnection);
var following = new Following(options, redisConnection, () => Directory.CreateDirectory(Path.Combine(directory, Guid.NewGuid().ToString("N")[..8])).FullName);
var followRuns = 0;
foreach (var name in options.Runs)
{
    await (name switch
    {
        "accept" => scenarios.AcceptAsync(),
        "e2e" => scenarios.EndToEndAsync(),
        "follow" => following.RunAsync(() => new Webhooks.Sequence($"follow{++followRuns}", options.EndToEndRefs)),
        "scale" => scenarios.ScaleAsync(),
        "faults" => scenarios.FaultsAsync(),
        _ => throw new ArgumentException($"unknown run '{name}' (accept, e2e, follow, scale, faults)"),
    });
}

return scenarios.Failed || following.Failed ? 1 : 0;

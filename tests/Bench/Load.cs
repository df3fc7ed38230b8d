using System.Diagnostics;
using System.Net;

namespace CiTrigger.Bench;

/// <summary>Latencies of one run, in milliseconds.</summary>
public sealed class LatencyStats
{
    private readonly double[] sorted;

    public LatencyStats(IEnumerable<double> milliseconds)
    {
        sorted = [.. milliseconds];
        Array.Sort(sorted);
    }

    public int Count => sorted.Length;

    public double Percentile(double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)];
}

/// <summary>The result of a load run against one target.</summary>
public sealed record LoadResult(int Accepted, int Errors, TimeSpan Elapsed, LatencyStats Latency, TimeSpan CpuTime)
{
    public double PerSecond => Accepted / Elapsed.TotalSeconds;

    /// <summary>Process CPU (server, load generator and fakes together) per accepted request, in microseconds.</summary>
    public double CpuMicrosecondsPerRequest => Accepted == 0 ? double.NaN : CpuTime.TotalMicroseconds / Accepted;
}

/// <summary>
/// Drives signed webhooks over keep-alive connections. Closed loop: each connection sends its next
/// request when the previous is answered. Open loop: requests leave on a fixed schedule whatever the
/// answers, and latency counts from the scheduled time, so a stalled server cannot hide its backlog.
/// </summary>
public sealed class Load : IDisposable
{
    private readonly HttpClient client;

    public Load(Uri target, int connections)
    {
        client = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            BaseAddress = target,
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public void Dispose() => client.Dispose();

    /// <summary>One request: 202 is "accepted" (anything else an error), with its answer time.</summary>
    public async Task<(bool Accepted, long AnsweredAt)> SendAsync(Webhooks.Request request)
    {
        using var message = request.ToMessage();
        try
        {
            using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
            return (response.StatusCode == HttpStatusCode.Accepted, Stopwatch.GetTimestamp());
        }
        catch (HttpRequestException)
        {
            return (false, Stopwatch.GetTimestamp());
        }
        catch (TaskCanceledException)
        {
            return (false, Stopwatch.GetTimestamp());
        }
    }

    /// <summary>Sends until <paramref name="duration"/> has passed, or (without one) until <paramref name="next"/> returns null.</summary>
    public async Task<LoadResult> ClosedLoopAsync(int concurrency, TimeSpan? duration, Func<Webhooks.Request?> next, Action<Webhooks.Request, long>? acked = null)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var start = Stopwatch.GetTimestamp();
        var end = duration is { } d ? start + (long)(d.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            var latencies = new List<double>(4096);
            var errors = 0;
            while (Stopwatch.GetTimestamp() < end && next() is { } request)
            {
                var sent = Stopwatch.GetTimestamp();
                var (ok, answered) = await SendAsync(request);
                if (ok)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(sent, answered).TotalMilliseconds);
                    acked?.Invoke(request, answered);
                }
                else
                {
                    errors++;
                }
            }

            return (latencies, errors);
        }).ToList();
        var results = await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(start);
        return new LoadResult(results.Sum(r => r.latencies.Count), results.Sum(r => r.errors), elapsed,
            new LatencyStats(results.SelectMany(r => r.latencies)), Process.GetCurrentProcess().TotalProcessorTime - cpu);
    }

    public async Task<LoadResult> OpenLoopAsync(double rate, TimeSpan duration, Func<Webhooks.Request> next)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var total = (int)(rate * duration.TotalSeconds);
        var interval = Stopwatch.Frequency / rate;
        var start = Stopwatch.GetTimestamp();
        var inFlight = new List<Task<(bool, double)>>(total);
        for (var i = 0; i < total; i++)
        {
            var due = start + (long)(i * interval);
            while (Stopwatch.GetTimestamp() < due)
            {
                var ahead = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (ahead > TimeSpan.FromMilliseconds(2))
                {
                    await Task.Delay(ahead - TimeSpan.FromMilliseconds(1));
                }
                else
                {
                    Thread.SpinWait(50);
                }
            }

            var request = next();
            inFlight.Add(Measure(request, due));
        }

        var results = await Task.WhenAll(inFlight);
        var elapsed = Stopwatch.GetElapsedTime(start);
        return new LoadResult(results.Count(r => r.Item1), results.Count(r => !r.Item1), elapsed,
            new LatencyStats(results.Where(r => r.Item1).Select(r => r.Item2)), Process.GetCurrentProcess().TotalProcessorTime - cpu);

        async Task<(bool, double)> Measure(Webhooks.Request request, long scheduled)
        {
            var (ok, answered) = await SendAsync(request);
            return (ok, Stopwatch.GetElapsedTime(scheduled, answered).TotalMilliseconds);
        }
    }
}

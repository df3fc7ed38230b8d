using System.Diagnostics;
using CiTrigger.Tests.Fakes;

namespace CiTrigger.Bench;

/// <summary>A silo in a process of its own (Redis mode), so it can be killed with SIGKILL mid-run.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process process;

    private SiloProcess(Process process, int port)
    {
        this.process = process;
        Address = new Uri($"http://127.0.0.1:{port}");
    }

    public Uri Address { get; }

    public static async Task<SiloProcess> StartAsync(Fakes fakes, string redis, string serviceId, string directory)
    {
        var port = FreePorts.Next();
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Silo.dll"));
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["urls"] = $"http://127.0.0.1:{port}",
            ["Webhook:Secrets"] = Webhooks.Secret,
            ["GitHub:BaseUrl"] = fakes.GitHub.BaseAddress.ToString(),
            ["Kubernetes:KubeConfig"] = fakes.Kubernetes.WriteKubeConfig(directory),
            ["Orleans:Clustering"] = "Redis",
            ["ConnectionStrings:Redis"] = redis,
            ["Orleans:ServiceId"] = serviceId,
            ["Orleans:AdvertisedIP"] = "127.0.0.1",
            ["Orleans:SiloPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:Membership:ProbeTimeout"] = "00:00:01",
            ["Orleans:Membership:NumMissedProbesLimit"] = "2",
            ["Orleans:Membership:NumVotesForDeathDeclaration"] = "1",
            ["Orleans:MinimumReminderPeriod"] = "00:00:01",
            ["Handler:ReminderPeriod"] = "00:00:02",
            ["Handler:RetryBaseDelay"] = "00:00:00.050",
            ["Handler:RetryMaxDelay"] = "00:00:01",
            ["Handler:MaxAttempts"] = "1000",
            ["Logging:LogLevel:Default"] = "Error",
        })
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        var process = Process.Start(start)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        for (var i = 0; i < 600; i++)
        {
            try
            {
                using var ready = await client.GetAsync("/readyz");
                if (ready.IsSuccessStatusCode)
                {
                    return new SiloProcess(process, port);
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        process.Kill();
        throw new TimeoutException("a silo process did not become ready");
    }

    public async Task KillAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        process.Dispose();
    }
}

using System.Diagnostics;
using System.Text;

namespace CiTrigger.Tests.Fakes;

/// <summary>
/// The service as its own operating-system process (<c>dotnet Silo.dll</c> from the running program's
/// directory, where a project that references the silo finds it), so a test or a benchmark run can kill
/// it with SIGKILL and start it again. Its output is kept for a failing test to print.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    private readonly Process process;
    private readonly StringBuilder output = new();

    private SiloProcess(Process process, int httpPort)
    {
        this.process = process;
        HttpPort = httpPort;
        Address = new Uri($"http://127.0.0.1:{httpPort}");
        Client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public int HttpPort { get; }

    /// <summary>The operating system's id of the process.</summary>
    public int Id => process.Id;

    public Uri Address { get; }

    public HttpClient Client { get; }

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>A setting of the tests only: "true" leaves <c>Handler:ManifestPath</c> unset (pipeline mode); without it a silo runs in the single-file mode.</summary>
    public const string PipelineMode = "Test:PipelineMode";

    /// <summary>Starts the process with <paramref name="settings"/> as <c>--key=value</c> arguments and returns once it answers <c>/readyz</c>.</summary>
    /// <param name="settings">Configuration keys, passed on the command line.</param>
    /// <param name="httpPort">The loopback port to listen on; a free one when null.</param>
    /// <param name="environment">Environment variables to set (e.g. <c>DOTNET_GCHeapHardLimit</c>; a null value removes one).</param>
    /// <param name="launcher">A command that execs its arguments (the silo's command line) in the same process.</param>
    public static async Task<SiloProcess> StartAsync(IReadOnlyDictionary<string, string> settings, int? httpPort = null,
        IReadOnlyDictionary<string, string?>? environment = null, IReadOnlyList<string>? launcher = null)
    {
        var port = httpPort ?? FreePorts.Next();
        var start = new ProcessStartInfo(launcher is [var first, ..] ? first : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        string[] launch = launcher is { Count: > 0 } ? [.. launcher.Skip(1), "dotnet"] : [];
        foreach (var argument in launch)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[name] = value;
        }

        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Silo.dll"));
        start.ArgumentList.Add($"--urls=http://127.0.0.1:{port}");
        // The tests written before pipelines run in the single-file mode; a test of pipelines asks for them.
        var pipelines = settings.TryGetValue(PipelineMode, out var mode) && mode == "true";
        // Pipeline mode leaves Handler:ManifestPath out even when a layer of settings for the single-file tests put it in.
        foreach (var (key, value) in settings.Where(s => s.Key != PipelineMode && !(pipelines && s.Key.Equals("Handler:ManifestPath", StringComparison.OrdinalIgnoreCase))))
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        if (!pipelines && !settings.Keys.Any(k => k.Equals("Handler:ManifestPath", StringComparison.OrdinalIgnoreCase)))
        {
            foreach (var (key, value) in ServiceSettings.SingleFile)
            {
                start.ArgumentList.Add($"--{key}={value}");
            }
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the silo process");
        var silo = new SiloProcess(process, port);
        process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await silo.WaitReadyAsync();
        }
        catch
        {
            await silo.DisposeAsync();
            throw;
        }

        return silo;
    }

    /// <summary>SIGKILL: no shutdown code runs, nothing is flushed.</summary>
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
        Client.Dispose();
        await KillAsync();
        process.Dispose();
    }

    private async Task WaitReadyAsync()
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < ReadyTimeout)
        {
            if (process.HasExited)
            {
                // Waiting for the exit also waits for the output readers to reach the end, so the message holds the last lines.
                await process.WaitForExitAsync();
                throw new InvalidOperationException($"the silo process exited with {process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await Client.GetAsync("/readyz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"the silo process did not become ready within {ReadyTimeout.TotalSeconds:0} s:\n{Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }
}

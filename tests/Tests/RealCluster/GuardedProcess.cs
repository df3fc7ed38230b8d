using System.Diagnostics;
using System.Globalization;

namespace CiTrigger.Tests.RealCluster;

/// <summary>
/// A server the tests start (etcd, kube-apiserver, kubectl proxy), stopped by its PID. It runs under a
/// small shell guard that holds a pipe from this test process on its standard input: when the test
/// process dies without cleaning up (a crash, a kill, a cancelled run), the pipe closes and the guard
/// kills the server, so nothing outlives the run. Output goes to a log file, shown when a start fails.
/// </summary>
public sealed class GuardedProcess : IAsyncDisposable
{
    // "$@" is the server; the guard prints its PID, waits for end-of-file on stdin, then kills it and
    // removes the directory it was given (etcd's data on tmpfs), if any.
    private const string Guard = """
        "$@" </dev/null >>"$GUARD_LOG" 2>&1 &
        child=$!
        echo "$child"
        cat >/dev/null
        kill -KILL "$child" 2>/dev/null
        wait "$child" 2>/dev/null
        if [ -n "${GUARD_REMOVE:-}" ]; then rm -rf "$GUARD_REMOVE"; fi
        exit 0
        """;

    private readonly Process guard;

    private GuardedProcess(Process guard, int pid, string logPath)
    {
        this.guard = guard;
        Pid = pid;
        LogPath = logPath;
    }

    public int Pid { get; }

    public string LogPath { get; }

    /// <summary>The last lines of the server's output, for failure messages.</summary>
    public string LogTail
    {
        get
        {
            var lines = File.Exists(LogPath) ? File.ReadAllLines(LogPath) : [];
            return string.Join('\n', lines.TakeLast(30));
        }
    }

    /// <summary>Whether the server still runs (a zombie waiting for the guard to reap it does not).</summary>
    public bool IsRunning
    {
        get
        {
            var stat = $"/proc/{Pid}/stat";
            try
            {
                var text = File.ReadAllText(stat);
                return text[(text.LastIndexOf(')') + 2)..] is var rest && rest.Length > 0 && rest[0] is not ('Z' or 'X');
            }
            catch (IOException)
            {
                return false;
            }
        }
    }

    /// <param name="file">The server's executable.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="logPath">Where its output goes.</param>
    /// <param name="remove">A directory to delete once it has stopped, also when the test process died.</param>
    public static async Task<GuardedProcess> StartAsync(string file, IEnumerable<string> arguments, string logPath, string? remove = null)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["-c", Guard, "guard", file, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["GUARD_LOG"] = logPath;
        start.Environment["GUARD_REMOVE"] = remove ?? "";
        var guard = Process.Start(start) ?? throw new InvalidOperationException($"could not start a guard for {file}");
        var line = await guard.StandardOutput.ReadLineAsync();
        if (!int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            guard.Kill();
            guard.Dispose();
            throw new InvalidOperationException($"the guard of {file} printed no PID ({line})");
        }

        return new GuardedProcess(guard, pid, logPath);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var server = Process.GetProcessById(Pid);
            server.Kill();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // Already gone.
        }

        guard.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await guard.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            guard.Kill();
        }

        guard.Dispose();
    }
}

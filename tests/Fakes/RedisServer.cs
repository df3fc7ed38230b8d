using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace CiTrigger.Tests.Fakes;

/// <summary>A real <c>redis-server</c> (Debian's package) on a loopback port, stopped by its PID; for the tests and the benchmark.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly Process process;

    private RedisServer(Process process, int port)
    {
        this.process = process;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>A running server, or null when <c>redis-server</c> is not installed.</summary>
    public static async Task<RedisServer?> TryStartAsync()
    {
        try
        {
            return await StartAsync();
        }
        catch (InvalidOperationException e) when (e.InnerException is System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <param name="persistence">
    /// Persistence settings (e.g. the arguments of the Kubernetes base) in place of the default of none;
    /// the files then go to a directory of their own.
    /// </param>
    public static async Task<RedisServer> StartAsync(IReadOnlyList<string>? persistence = null)
    {
        var port = FreePorts.Next();
        var start = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] where = ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--daemonize", "no"];
        foreach (var arg in where.Concat(persistence is null
            ? ["--save", "", "--appendonly", "no"]
            : [.. persistence, "--dir", Directory.CreateTempSubdirectory("redis-").FullName]))
        {
            start.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("redis-server is not installed; ./test.sh installs it (apt-get install redis-server)", e);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServer(process, port);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!server.Pings())
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                await server.DisposeAsync();
                throw new InvalidOperationException($"redis-server on port {port} did not answer PING within 10 s");
            }

            await Task.Delay(25);
        }

        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill();
        }

        await process.WaitForExitAsync();
        process.Dispose();
    }

    /// <summary>One command over RESP, answered with its reply lines (for checks; the service uses StackExchange.Redis).</summary>
    public async Task<string[]> CommandAsync(params string[] words)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Port);
        var stream = client.GetStream();
        var request = new StringBuilder($"*{words.Length}\r\n");
        foreach (var word in words)
        {
            request.Append(System.Globalization.CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(word)}\r\n{word}\r\n");
        }

        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()));
        var buffer = new byte[4096];
        var read = await stream.ReadAsync(buffer);
        return Encoding.UTF8.GetString(buffer, 0, read).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
    }

    private bool Pings()
    {
        try
        {
            using var client = new TcpClient("127.0.0.1", Port);
            var stream = client.GetStream();
            stream.Write("PING\r\n"u8);
            var buffer = new byte[16];
            var read = stream.Read(buffer);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

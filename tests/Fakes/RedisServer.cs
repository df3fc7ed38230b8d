using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace CiTrigger.Tests.Fakes;

/// <summary>A real <c>redis-server</c> (Debian's package) on a loopback port, stopped by its PID; for the tests and the benchmark.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly Process process;
    private readonly Dictionary<string, long> commandsSent = new(StringComparer.Ordinal);
    private long bytesSent;

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

    /// <summary>The bytes of every request <see cref="CommandAsync"/> sent, so a measurement can leave its own reads out.</summary>
    public long BytesSent => Interlocked.Read(ref bytesSent);

    /// <summary>The commands <see cref="CommandAsync"/> sent, by lower-case name (as Redis' statistics name them).</summary>
    public IReadOnlyDictionary<string, long> CommandsSent
    {
        get
        {
            lock (commandsSent)
            {
                return new Dictionary<string, long>(commandsSent, StringComparer.Ordinal);
            }
        }
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

        var bytes = Encoding.UTF8.GetBytes(request.ToString());
        Interlocked.Add(ref bytesSent, bytes.Length);
        lock (commandsSent)
        {
            var name = words[0].ToLowerInvariant();
            commandsSent[name] = commandsSent.GetValueOrDefault(name) + 1;
        }

        await stream.WriteAsync(bytes);
        var reply = new MemoryStream();
        var buffer = new byte[4096];
        do
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0)
            {
                break;
            }

            await reply.WriteAsync(buffer.AsMemory(0, read));
        }
        while (!Complete(reply.GetBuffer().AsSpan(0, (int)reply.Length)));

        return Encoding.UTF8.GetString(reply.GetBuffer(), 0, (int)reply.Length).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Whether <paramref name="reply"/> holds a whole RESP value (a reply may come in several packets).</summary>
    private static bool Complete(ReadOnlySpan<byte> reply)
    {
        var at = 0;
        return Skip(reply, ref at);
    }

    /// <summary>Moves past one RESP value at <paramref name="at"/>: false when the reply does not hold all of it yet.</summary>
    private static bool Skip(ReadOnlySpan<byte> reply, ref int at)
    {
        var lineEnd = reply[at..].IndexOf("\r\n"u8);
        if (lineEnd <= 0)
        {
            return false;
        }

        var line = reply.Slice(at, lineEnd);
        at += lineEnd + 2;
        if (line[0] is not ((byte)'$' or (byte)'*')
            || !int.TryParse(line[1..], System.Globalization.CultureInfo.InvariantCulture, out var length)
            || length < 0)
        {
            // A simple string, an error, an integer, or a null.
            return true;
        }

        if (line[0] == (byte)'$')
        {
            at += length + 2;
            return reply.Length >= at;
        }

        for (var i = 0; i < length; i++)
        {
            if (!Skip(reply, ref at))
            {
                return false;
            }
        }

        return true;
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

using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace CiTrigger.Bench;

/// <summary>A redis-server on a loopback port for the Redis rows, stopped by its PID.</summary>
public sealed class RedisProcess : IAsyncDisposable
{
    private readonly Process process;

    private RedisProcess(Process process, int port)
    {
        this.process = process;
        ConnectionString = $"127.0.0.1:{port}";
    }

    public string ConnectionString { get; }

    public static async Task<RedisProcess?> TryStartAsync()
    {
        var port = Ports.Free();
        var start = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var arg in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        {
            start.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }

        process.BeginOutputReadLine();
        var server = new RedisProcess(process, port);
        for (var i = 0; i < 200 && !Pings(port); i++)
        {
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

    private static bool Pings(int port)
    {
        try
        {
            using var client = new TcpClient("127.0.0.1", port);
            client.GetStream().Write("PING\r\n"u8);
            var buffer = new byte[8];
            return Encoding.ASCII.GetString(buffer, 0, client.GetStream().Read(buffer)).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

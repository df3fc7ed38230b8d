using System.Net.Sockets;
using System.Text;

namespace CiTrigger.Tests.Support;

/// <summary>
/// A webhook POST written by hand over a loopback socket, so a test decides how much of the announced
/// body arrives and how fast: the slow, never-finished upload an attacker would send.
/// </summary>
public sealed class RawUpload : IAsyncDisposable
{
    private readonly TcpClient client;
    private readonly NetworkStream stream;
    private readonly CancellationTokenSource stop = new();
    private Task trickling = Task.CompletedTask;
    private long sent;

    private RawUpload(TcpClient client)
    {
        this.client = client;
        stream = client.GetStream();
    }

    /// <summary>Bytes of the body written so far.</summary>
    public long Sent => Interlocked.Read(ref sent);

    /// <summary>Connects and sends the request head of an unsigned push announcing <paramref name="contentLength"/> bytes.</summary>
    public static async Task<RawUpload> StartAsync(int port, long contentLength)
    {
        var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var upload = new RawUpload(client);
        var head = "POST /webhooks/github HTTP/1.1\r\n" +
            $"Host: 127.0.0.1:{port}\r\n" +
            "Content-Type: application/json\r\n" +
            $"Content-Length: {contentLength}\r\n" +
            "X-GitHub-Event: push\r\n" +
            $"X-GitHub-Delivery: {Guid.NewGuid()}\r\n" +
            "X-Hub-Signature-256: sha256=" + new string('0', 64) + "\r\n\r\n";
        await upload.stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        return upload;
    }

    /// <summary>Writes <paramref name="count"/> more bytes of the body at once.</summary>
    public async Task SendAsync(int count)
    {
        var filler = new byte[Math.Min(count, 64 * 1024)];
        Array.Fill(filler, (byte)' ');
        for (var left = count; left > 0; left -= filler.Length)
        {
            await stream.WriteAsync(filler.AsMemory(0, Math.Min(left, filler.Length)));
            Interlocked.Add(ref sent, Math.Min(left, filler.Length));
        }
    }

    /// <summary>From now on writes <paramref name="count"/> bytes every <paramref name="interval"/> until disposed or refused.</summary>
    public void Trickle(int count, TimeSpan interval) => trickling = Task.Run(async () =>
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await SendAsync(count);
                await Task.Delay(interval, stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    });

    /// <summary>Whether the server has answered or closed the connection (without waiting for either).</summary>
    public bool Answered => client.Client.Poll(0, SelectMode.SelectRead);

    /// <summary>The status code the server answered, once it has.</summary>
    public async Task<int> StatusAsync(CancellationToken cancellation)
    {
        var buffer = new byte[12];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), cancellation);
            if (n == 0)
            {
                throw new IOException("the server closed the connection without an answer");
            }

            read += n;
        }

        return int.Parse(Encoding.ASCII.GetString(buffer, 9, 3), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        client.Dispose();
        await trickling;
        stop.Dispose();
    }
}

using System.Net;
using System.Net.Sockets;

namespace CiTrigger.Tests.Fakes;

/// <summary>
/// Ports for the servers tests start. They come from below the kernel's ephemeral range: a port from that
/// range (port 0) can be taken by any outgoing connection between being handed out and being bound, which
/// made a silo's bind fail now and then with "address already in use".
/// </summary>
public static class FreePorts
{
    private static readonly HashSet<int> Handed = [];
    private static readonly (int Low, int High) Range = BelowEphemeral();

    /// <summary>A loopback port nothing listens on now and that this process has not handed out before.</summary>
    public static int Next()
    {
        while (true)
        {
            var port = Random.Shared.Next(Range.Low, Range.High);
            lock (Handed)
            {
                if (Handed.Contains(port) || !CanBind(port))
                {
                    continue;
                }

                Handed.Add(port);
                return port;
            }
        }
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static (int Low, int High) BelowEphemeral()
    {
        const string path = "/proc/sys/net/ipv4/ip_local_port_range";
        var ephemeralLow = File.Exists(path) && File.ReadAllText(path).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries) is [var low, ..]
            && int.TryParse(low, out var value) ? value : 49152;
        return ephemeralLow > 12000 ? (10000, ephemeralLow - 1) : (49152, 65535);
    }
}

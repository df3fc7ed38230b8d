using System.Net;
using System.Net.Sockets;

namespace CiTrigger.Silo.Hosting;

/// <summary>
/// The ports this process is about to listen on, tried before anything starts. A port held by another
/// process then costs one line; found by Kestrel or Orleans halfway through start-up, it costs pages of
/// shutdown logs from a silo that had already joined. (<see cref="StartupFailure"/> still names the port
/// if another process takes it between this check and the bind.)
/// </summary>
public static class PortCheck
{
    /// <param name="urls">The <c>urls</c> setting (<c>--urls</c>, <c>ASPNETCORE_URLS</c>), <c>;</c>-separated.</param>
    /// <param name="orleans">Where the silo will listen.</param>
    public static string? FirstInUse(string? urls, OrleansOptions orleans)
    {
        foreach (var url in (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Endpoint(url) is { } endpoint && InUse(endpoint))
            {
                return $"cannot start: {url}: address already in use (another process listens there; choose another with --urls)";
            }
        }

        // Localhost clustering listens on loopback; Redis mode on every address.
        var address = orleans.IsRedis ? IPAddress.Any : IPAddress.Loopback;
        foreach (var (key, port) in new[] { ("SiloPort", orleans.SiloPort), ("GatewayPort", orleans.GatewayPort) })
        {
            if (InUse(new IPEndPoint(address, port)))
            {
                return $"cannot start: port {port} ({OrleansOptions.Section}:{key}) is already in use; choose another with --{OrleansOptions.Section}:{key}=";
            }
        }

        return null;
    }

    private static IPEndPoint? Endpoint(string url)
    {
        BindingAddress binding;
        try
        {
            binding = BindingAddress.Parse(url);
        }
        catch (FormatException)
        {
            return null;
        }

        if (binding.IsUnixPipe || binding.Port == 0)
        {
            return null;
        }

        // As Kestrel reads the host: localhost is loopback, an IP address is itself, anything else is every address.
        var address = string.Equals(binding.Host, "localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
            : IPAddress.TryParse(binding.Host, out var parsed) ? parsed
            : IPAddress.Any;
        return new IPEndPoint(address, binding.Port);
    }

    private static bool InUse(IPEndPoint endpoint)
    {
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endpoint);
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return true;
        }
        catch (SocketException)
        {
            // Not ours to judge here (an address this host lacks, no IPv6): the real bind will say.
            return false;
        }
    }
}

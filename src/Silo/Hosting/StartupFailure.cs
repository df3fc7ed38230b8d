using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace CiTrigger.Silo.Hosting;

/// <summary>
/// What an operator can fix before the service runs: a configuration value, a port already taken. Each
/// becomes the one line docs/configuration.md promises instead of a stack trace.
/// </summary>
public static partial class StartupFailure
{
    /// <summary>The line to print (and exit 2), or null for a failure that is not the operator's to fix.</summary>
    public static string? Describe(Exception failure) => failure switch
    {
        OptionsValidationException invalid => Configuration(invalid.Failures),

        // Several options classes failed at once. An options class configured from another one (recovery
        // reads the handled events from the Handler options) rethrows that one's failures when it is
        // validated in turn, so the same failure can arrive twice: each is printed once.
        AggregateException { InnerExceptions: var all } when all.All(e => e is OptionsValidationException) =>
            Configuration(all.SelectMany(e => ((OptionsValidationException)e).Failures)),

        // Orleans' own checks name its options classes; the one bound from our configuration is named by its key.
        OrleansConfigurationException orleans =>
            "configuration error: " + orleans.Message.ReplaceLineEndings(" ").Replace("ClusterMembershipOptions.", OrleansOptions.Section + ":Membership:", StringComparison.Ordinal),

        // A key no pre-check covers (Logging, Kestrel, ...): the binder names it in its message.
        InvalidOperationException binder when BinderFailure().Match(binder.Message) is { Success: true } match =>
            $"configuration error: {match.Groups["key"].Value}: {binder.InnerException?.Message ?? binder.Message}",

        _ when Chain(failure).FirstOrDefault(IsAddressInUse) is { } inUse =>
            $"cannot start: {(inUse is AddressInUseException ? failure.Message : inUse.Message)} (another process holds the port; choose another with --urls or the Orleans:*Port keys)",

        _ => null,
    };

    private static string Configuration(IEnumerable<string> failures) =>
        "configuration error: " + string.Join("; ", failures.Distinct(StringComparer.Ordinal));

    private static bool IsAddressInUse(Exception e) =>
        e is AddressInUseException or SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse };

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            yield return current;
            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Chain))
                {
                    yield return inner;
                }
            }
        }
    }

    [GeneratedRegex("^Failed to convert configuration value (?:'.*' )?at '(?<key>[^']+)'")]
    private static partial Regex BinderFailure();
}

using System.Reflection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>
/// Every log message of the service has an EventId of its own, so an alert or a log query on one id
/// finds one message (issue 22 found 52/53 and 60/61 used twice).
/// </summary>
public class LogEventIdTests
{
    [Fact]
    public void No_two_log_messages_share_an_event_id()
    {
        var assemblies = new[]
        {
            typeof(CiTrigger.Grains.Processing.RefGrain).Assembly,
            typeof(CiTrigger.Gateway.Webhooks.WebhookReceiver).Assembly,
            typeof(CiTrigger.Grains.Abstractions.HookEvent).Assembly,
            typeof(CiTrigger.Silo.Hosting.StartupFailure).Assembly,
        }.Distinct();
        var messages = (from assembly in assemblies
                        from type in assembly.GetTypes()
                        from method in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                        let attribute = method.GetCustomAttribute<LoggerMessageAttribute>()
                        where attribute is not null
                        select (attribute.EventId, Name: $"{type.FullName}.{method.Name}")).ToList();

        Assert.True(messages.Count > 50, $"only {messages.Count} log messages found: the scan missed an assembly");
        var shared = messages.GroupBy(m => m.EventId).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Name))}").ToList();
        Assert.True(shared.Count == 0, "event ids used twice:\n" + string.Join("\n", shared));
    }
}

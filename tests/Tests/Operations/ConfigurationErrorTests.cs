using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Operations;

/// <summary>The service started as its own process with a bad value: it stops at once, with one line naming the key.</summary>
public class ConfigurationErrorTests
{
    private static Dictionary<string, string> Settings(IEnumerable<KeyValuePair<string, string>> values) =>
        ServiceSettings.Combine(new Dictionary<string, string>
        {
            ["Webhook:Secrets"] = TriggerHost.Secret,
            ["Kubernetes:DryRun"] = "true",
        }, ServiceSettings.EmbeddedSilo(Directory.CreateTempSubdirectory("citrigger-config-").FullName), values);

    /// <summary>Starts the process, which must exit with 2, and returns everything it printed.</summary>
    private static async Task<string> FailedStartAsync(IReadOnlyDictionary<string, string> settings, IReadOnlyDictionary<string, string?>? environment = null)
    {
        const string Exited = "the silo process exited with 2:\n";
        try
        {
            // A process that starts after all is stopped again, not left running after the test.
            await using var started = await SiloProcess.StartAsync(settings, environment: environment);
        }
        catch (InvalidOperationException failure) when (failure.Message.StartsWith(Exited, StringComparison.Ordinal))
        {
            return failure.Message[Exited.Length..];
        }

        Assert.Fail("the service started");
        return "";
    }

    private static int Count(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>The whole output is the one line, which says what is wrong with the key exactly once.</summary>
    private static void AssertOneLineSaying(string output, string message)
    {
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("configuration error: ", line, StringComparison.Ordinal);
        Assert.Equal(1, Count(line, message));
    }

    [Theory]
    [InlineData("Handler:IgnoreRefs", "(", "Handler:IgnoreRefs: '(' is not a usable regular expression")]
    [InlineData("Handler:Events", "push,bogus", "Handler:Events: 'bogus' is not supported")]
    [InlineData("Handler:OkToTestLabel", "", "Handler:OkToTestLabel: a label name of 1 to 50 characters is needed")]
    [InlineData("Storage:Provider", "Floppy", "Storage:Provider: 'Floppy' is not one of Sqlite, Redis")]
    public async Task A_configuration_error_is_printed_once_in_one_line_naming_its_key(string key, string value, string message)
    {
        var output = await FailedStartAsync(Settings(new Dictionary<string, string> { [key] = value }));

        AssertOneLineSaying(output, message);
        Assert.Equal(1, Count(output, key + ":"));
    }

    /// <summary>
    /// Values Orleans or GitHub would refuse or make useless later (a reminder period under Orleans' minimum
    /// answered every webhook 503) stop start-up instead.
    /// </summary>
    [Theory]
    [InlineData("Handler:ReminderPeriod", "00:00:01", "Handler:ReminderPeriod: must be at least Orleans:MinimumReminderPeriod (00:01:00)")]
    [InlineData("Orleans:MinimumReminderPeriod", "-00:00:01", "Orleans:MinimumReminderPeriod: must not be negative")]
    [InlineData("Orleans:CollectionAge", "00:00:30", "Orleans:CollectionAge: must be longer than Orleans' collection quantum")]
    [InlineData("Orleans:DirectoryCacheSize", "-1", "Orleans:DirectoryCacheSize: must not be negative")]
    [InlineData("Orleans:ReminderRefreshPeriod", "00:00:00", "Orleans:ReminderRefreshPeriod: must be positive")]
    [InlineData("Orleans:Membership:ProbeTimeout", "00:00:00", "Orleans:Membership:ProbeTimeout (00:00:00) must be greater than 0")]
    [InlineData("GitHub:RecoveryInterval", "3.00:00:00", "GitHub:RecoveryInterval: must be at most 2.23:55:00, GitHub's 3 days of redeliverable deliveries")]
    [InlineData("Handler:DedupeRetention", "1.00:00:00", "Handler:DedupeRetention: must be at least 3 days, as long as GitHub lets a delivery be redelivered")]
    public async Task An_option_that_orleans_or_github_bounds_is_refused_at_start_up_in_one_line_naming_its_key(string key, string value, string message)
    {
        var output = await FailedStartAsync(Settings(new Dictionary<string, string> { [key] = value }));

        AssertOneLineSaying(output, message);
    }

    /// <summary>
    /// Several silos clustering through Redis while grain state sits in one silo's SQLite file: a ref that moves to
    /// another silo would leave its state, and the events it acknowledged, behind.
    /// </summary>
    [Fact]
    public async Task Redis_clustering_with_state_in_sqlite_is_refused_at_start_up_in_one_line_naming_the_storage_key()
    {
        var output = await FailedStartAsync(Settings(new Dictionary<string, string>
        {
            ["Orleans:Clustering"] = "Redis",
            ["ConnectionStrings:Redis"] = $"127.0.0.1:{FreePorts.Next()}",
            ["Storage:Provider"] = "Sqlite",
        }));

        AssertOneLineSaying(output, "Storage:Provider: Sqlite keeps grain state on one silo's disk and cannot serve Orleans:Clustering=Redis, where refs move between silos; use Storage:Provider=Redis");
    }

    /// <summary>Redis clustering implies Redis storage, and both need the connection string: it is named once.</summary>
    [Fact]
    public async Task Redis_clustering_without_a_connection_string_names_the_missing_key_once()
    {
        var output = await FailedStartAsync(Settings(new Dictionary<string, string> { ["Orleans:Clustering"] = "Redis" }));

        AssertOneLineSaying(output, "ConnectionStrings:Redis: required when Orleans:Clustering=Redis");
        Assert.Equal(1, Count(output, "ConnectionStrings:Redis:"));
    }

    [Fact]
    public async Task A_reminder_period_down_to_a_lowered_orleans_minimum_is_accepted()
    {
        await using var silo = await SiloProcess.StartAsync(Settings(new Dictionary<string, string>
        {
            ["Orleans:MinimumReminderPeriod"] = "00:00:01",
            ["Handler:ReminderPeriod"] = "00:00:01",
        }));

        using var ready = await silo.Client.GetAsync("/readyz", TestContext.Current.CancellationToken);

        Assert.True(ready.IsSuccessStatusCode);
    }

    /// <summary>Unsigned webhooks are accepted only when asked for in so many words.</summary>
    [Fact]
    public async Task Without_a_webhook_secret_the_service_starts_only_with_webhook_insecure()
    {
        var noSecret = new Dictionary<string, string?> { ["WEBHOOK_SECRET"] = null, ["Webhook__Secrets"] = null };
        var settings = Settings([]);
        settings.Remove("Webhook:Secrets");

        var output = await FailedStartAsync(settings, noSecret);
        settings["Webhook:Insecure"] = "true";
        await using var insecure = await SiloProcess.StartAsync(settings, environment: noSecret);
        using var ready = await insecure.Client.GetAsync("/readyz", TestContext.Current.CancellationToken);

        AssertOneLineSaying(output, "Webhook:Secrets: no webhook secret is configured; set WEBHOOK_SECRET or Webhook:Secrets (or Webhook:Insecure=true");
        Assert.True(ready.IsSuccessStatusCode);
    }
}

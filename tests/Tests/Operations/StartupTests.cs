using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Xunit;

namespace CiTrigger.Tests.Operations;

public class StartupTests
{
    [Theory]
    [InlineData(null, 10_000)]
    [InlineData("500", 500)]
    public async Task The_silo_remembers_as_many_grain_locations_as_Orleans_DirectoryCacheSize_says(string? configured, int expected)
    {
        await using var github = await FakeGitHubApi.StartAsync();
        var settings = new Dictionary<string, string>();
        if (configured is not null)
        {
            settings["Orleans:DirectoryCacheSize"] = configured;
        }

        await using var host = await TriggerHost.StartAsync(github, kubernetes: null, settings);

        Assert.Equal(expected, host.Services.GetRequiredService<IOptions<GrainDirectoryOptions>>().Value.CacheSize);
    }

    [Fact]
    public async Task Orleans_ReminderRefreshPeriod_sets_how_often_the_silo_reads_its_reminders_again()
    {
        await using var github = await FakeGitHubApi.StartAsync();
        await using var host = await TriggerHost.StartAsync(github, kubernetes: null, new Dictionary<string, string> { ["Orleans:ReminderRefreshPeriod"] = "00:00:20" });

        Assert.Equal(TimeSpan.FromSeconds(20), host.Services.GetRequiredService<IOptions<ReminderOptions>>().Value.RefreshReminderListPeriod);
    }

    /// <summary>
    /// Loading a kubeconfig blocks (KubernetesClient is sync-over-async). Left to the first ref activations,
    /// it starved the thread pool and stalled the silo for 30 s; it must happen before the service is ready.
    /// </summary>
    [Fact]
    public async Task The_cluster_connection_and_an_anonymous_github_are_reported_before_the_service_is_ready()
    {
        await using var kubernetes = await FakeKubernetesApi.StartAsync();
        var directory = Directory.CreateTempSubdirectory("citrigger-startup-").FullName;

        await using var silo = await SiloProcess.StartAsync(ServiceSettings.Combine(new Dictionary<string, string>
        {
            ["Webhook:Secrets"] = TriggerHost.Secret,
            ["Kubernetes:KubeConfig"] = kubernetes.WriteKubeConfig(directory),
        }, ServiceSettings.EmbeddedSilo(directory)));

        // No webhook is sent: only start-up can have built the applier. (The console logger writes on its own thread.)
        var line = $"Applying manifests to {kubernetes.BaseAddress.ToString().TrimEnd('/')}";
        await Eventually.Until(() => silo.Output.Contains(line, StringComparison.Ordinal), TimeSpan.FromSeconds(10), line);

        // No GitHub token is configured: a newcomer is told what that means before the first rate limit.
        const string Anonymous = "is used anonymously, which allows 60 requests an hour and public repositories only";
        await Eventually.Until(() => silo.Output.Contains(Anonymous, StringComparison.Ordinal), TimeSpan.FromSeconds(10), Anonymous);
    }

    [Fact]
    public async Task A_kubeconfig_that_cannot_be_read_stops_the_service_at_start_with_one_line_naming_the_key()
    {
        var directory = Directory.CreateTempSubdirectory("citrigger-startup-").FullName;
        var kubeconfig = Path.Combine(directory, "kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, "clusters: [\n", TestContext.Current.CancellationToken);

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => SiloProcess.StartAsync(ServiceSettings.Combine(new Dictionary<string, string>
        {
            ["Webhook:Secrets"] = TriggerHost.Secret,
            ["Kubernetes:KubeConfig"] = kubeconfig,
        }, ServiceSettings.EmbeddedSilo(directory))));

        Assert.Contains("exited with 2", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"configuration error: Kubernetes:KubeConfig: the cluster configuration ({kubeconfig}) cannot be used", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", failure.Message, StringComparison.Ordinal);
    }

    /// <summary>In a pod a sidecar (or anything else in it) reaches the service from loopback, so "loopback only" protects nothing.</summary>
    [Fact]
    public async Task In_a_pod_without_an_admin_token_the_service_does_not_start()
    {
        var directory = Directory.CreateTempSubdirectory("citrigger-startup-").FullName;

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => SiloProcess.StartAsync(ServiceSettings.Combine(new Dictionary<string, string>
        {
            ["Webhook:Secrets"] = TriggerHost.Secret,
            ["Kubernetes:DryRun"] = "true",
        }, ServiceSettings.EmbeddedSilo(directory)), environment: new Dictionary<string, string?> { ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1", ["KUBERNETES_SERVICE_PORT"] = "443" }));

        Assert.Contains("exited with 2", failure.Message, StringComparison.Ordinal);
        Assert.Contains("configuration error: Admin:Token: required when running in a Kubernetes pod", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", failure.Message, StringComparison.Ordinal);
    }
}

using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Telemetry;
using CiTrigger.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class KubernetesRegistrationTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMetrics();
        services.AddSingleton<TriggerMetrics>();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new RetryPolicy(3, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10), Random.Shared));
        services.AddKubernetes(configuration);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void In_dry_run_nothing_is_followed_stopped_or_pruned()
    {
        using var provider = Build(new() { ["Kubernetes:DryRun"] = "true" });

        Assert.IsType<NoRunControl>(provider.GetRequiredService<IRunControl>());
        Assert.False(provider.GetRequiredService<IRunControl>().Follows);
        Assert.IsType<DryRunManifestApplier>(provider.GetRequiredService<IManifestApplier>());
        Assert.IsType<NoRunPruner>(provider.GetRequiredService<IRunPruner>());
    }

    [Fact]
    public async Task With_a_cluster_the_run_follower_is_the_run_control_and_runs_with_the_host_and_the_pruner_deletes_runs()
    {
        await using var fake = await FakeKubernetesApi.StartAsync();
        using var provider = Build(new() { ["Kubernetes:KubeConfig"] = fake.WriteKubeConfig(Directory.CreateTempSubdirectory("citrigger-reg-").FullName) });

        var control = provider.GetRequiredService<IRunControl>();

        var follower = Assert.IsType<KubernetesRunFollower>(control);
        Assert.True(control.Follows);
        Assert.IsType<KubernetesManifestApplier>(provider.GetRequiredService<IManifestApplier>());
        Assert.IsType<KubernetesRunPruner>(provider.GetRequiredService<IRunPruner>());
        var hosted = provider.GetServices<IHostedService>().ToList();
        foreach (var service in hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }

        // No IRunObserver is registered here, so the follower ends at once without a request. (The Repository
        // watcher, also started with the host, may have listed Repository objects meanwhile.)
        await follower.ExecuteTask!;
        Assert.DoesNotContain(fake.Requests, r => !r.Path.Contains("/apis/k8s-webhook-handler.io/", StringComparison.Ordinal));
        foreach (var service in hosted)
        {
            await service.StopAsync(CancellationToken.None);
        }
    }
}

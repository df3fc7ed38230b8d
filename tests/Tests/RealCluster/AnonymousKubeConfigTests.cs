using System.Diagnostics;
using System.Globalization;
using CiTrigger.Tests.Fakes;
using Xunit;

namespace CiTrigger.Tests.RealCluster;

/// <summary>
/// A kubeconfig whose user has no credentials is how one points a program at <c>kubectl proxy</c>: the
/// proxy adds the credentials. The service accepts it as anonymous access instead of refusing to start.
/// </summary>
public sealed class AnonymousKubeConfigTests(RealClusterFixture fixture)
{
    [Fact]
    public async Task A_kubeconfig_without_credentials_reaches_the_cluster_through_kubectl_proxy()
    {
        var cluster = await fixture.GetAsync();
        var directory = Directory.CreateTempSubdirectory("citrigger-proxy-").FullName;
        var port = FreePorts.Next();
        await using var proxy = await GuardedProcess.StartAsync("kubectl",
            ["proxy", $"--port={port.ToString(CultureInfo.InvariantCulture)}", "--address=127.0.0.1", $"--kubeconfig={cluster.WriteKubeConfig(directory, cluster.ServiceAccountToken)}"],
            Path.Combine(directory, "kubectl-proxy.log"));
        var url = new Uri($"http://127.0.0.1:{port}");
        await ServingAsync(proxy, url);

        await using var service = await RealClusterService.StartAsync(cluster, d => cluster.WriteKubeConfig(d, token: null, url));
        var repo = service.NewRepo();
        var delivery = await service.PushAsync(repo, SampleManifest.Workflow);
        var state = await service.FinishedAsync(repo);

        Assert.Equal("applied", state["history"]![0]!["outcome"]!.GetValue<string>());
        var workflow = Assert.Single(await cluster.WorkflowsOfDeliveryAsync(delivery));
        var manager = Assert.Single(workflow["metadata"]!["managedFields"]!.AsArray())!;
        Assert.Equal("k8s-webhook-handler", manager["manager"]!.GetValue<string>());
    }

    private static async Task ServingAsync(GuardedProcess proxy, Uri url)
    {
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Assert.True(proxy.IsRunning, $"kubectl proxy exited: {proxy.LogTail}");
            try
            {
                using var response = await http.GetAsync(new Uri("/version", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"kubectl proxy did not serve within 20 s: {proxy.LogTail}");
            await Task.Delay(50);
        }
    }
}

using CiTrigger.Grains.GitHub;
using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Processing;
using CiTrigger.Grains.Storage.Sqlite;
using CiTrigger.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;

namespace CiTrigger.Tests.Cluster;

/// <summary>
/// An Orleans test cluster whose silos run the real ref processing against the fake APIs and share one
/// SQLite store in a temporary directory: a process-wide store, so a killed silo's state survives it.
/// </summary>
public static class TestClusterHost
{
    public static InProcessTestCluster Build(FakeGitHubApi github, FakeKubernetesApi kubernetes, short silos, IDictionary<string, string?>? settings = null)
    {
        var directory = Directory.CreateTempSubdirectory("citrigger-cluster-").FullName;
        var values = ServiceSettings.Combine(new Dictionary<string, string>
        {
            ["GitHub:BaseUrl"] = github.BaseAddress.ToString(),
            ["GitHub:Token"] = FakeGitHubApi.Token,
            ["Kubernetes:KubeConfig"] = kubernetes.WriteKubeConfig(directory),
            ["Kubernetes:FollowRuns"] = "false",
            ["Logging:LogLevel:Default"] = "Error",
        }, ServiceSettings.SingleFile, ServiceSettings.FastRetry, ServiceSettings.FastRecovery).ToDictionary(kv => kv.Key, kv => (string?)kv.Value);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var database = Path.Combine(directory, "cluster.db");
        var builder = new InProcessTestClusterBuilder(silos);
        builder.ConfigureSiloHost((_, host) => host.Configuration.AddInMemoryCollection(values));
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddRefProcessing().AddGitHub(silo.Configuration).AddKubernetes(silo.Configuration);
            silo.AddSqliteStorage(database);
            silo.Configure<Orleans.Hosting.ReminderOptions>(o => o.MinimumReminderPeriod = ServiceSettings.MinimumReminderPeriod);
        });
        return builder.Build();
    }
}

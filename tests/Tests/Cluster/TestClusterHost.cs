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
        var values = new Dictionary<string, string?>
        {
            ["GitHub:BaseUrl"] = github.BaseAddress.ToString(),
            ["GitHub:Token"] = FakeGitHubApi.Token,
            ["Kubernetes:KubeConfig"] = kubernetes.WriteKubeConfig(directory),
            ["Handler:RetryBaseDelay"] = "00:00:00.050",
            ["Handler:RetryMaxDelay"] = "00:00:00.400",
            ["Handler:ReminderPeriod"] = "00:00:02",
            ["Logging:LogLevel:Default"] = "Error",
        };
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
            silo.Configure<Orleans.Hosting.ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        });
        return builder.Build();
    }
}

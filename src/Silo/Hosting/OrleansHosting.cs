using System.Net;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Processing;
using CiTrigger.Grains.Storage;
using CiTrigger.Grains.Storage.Redis;
using k8s;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Hosting.Kubernetes;

namespace CiTrigger.Silo.Hosting;

public static class OrleansHosting
{
    private const string Membership = OrleansOptions.Section + ":Membership";

    /// <summary>
    /// The silo: localhost clustering by default, Redis clustering with <c>Orleans:Clustering=Redis</c> (plus
    /// pod-aware hosting when running in Kubernetes); grain state, reminders and the ref catalog in the backend
    /// <see cref="StorageChoice"/> picks (SQLite under <c>Orleans:DataPath</c> by default, Redis with Redis clustering).
    /// </summary>
    public static WebApplicationBuilder AddTriggerSilo(this WebApplicationBuilder builder)
    {
        var (options, storage, context) = ReadOptions(builder.Configuration);

        // Orleans refuses a shorter reminder only when a ref registers its first one, and then every webhook
        // is answered 503; so the bound is checked with the other options, before anything starts.
        var minimum = options.EffectiveMinimumReminderPeriod;
        builder.Services.AddOptions<QueueOptions>().Validate(queue => queue.ReminderPeriod >= minimum,
            $"{QueueOptions.Section}:ReminderPeriod: must be at least {OrleansOptions.Section}:MinimumReminderPeriod ({minimum}), the shortest reminder period Orleans accepts");

        // AddOrleans, not UseOrleans: UseOrleans hands Orleans the app configuration, and Orleans reads
        // "Orleans:Clustering" as a provider section of its own, which collides with our documented
        // Orleans:Clustering=Localhost|Redis. Everything Orleans needs is configured explicitly below.
        builder.Services.AddOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(c =>
            {
                c.ServiceId = options.ServiceId;
                c.ClusterId = options.ClusterId;
            });
            if (options.MinimumReminderPeriod is { } minimum)
            {
                silo.Configure<ReminderOptions>(r => r.MinimumReminderPeriod = minimum);
            }

            if (options.ReminderRefreshPeriod is { } refresh)
            {
                silo.Configure<ReminderOptions>(r => r.RefreshReminderListPeriod = refresh);
            }

            // Failure detection (ProbeTimeout, NumMissedProbesLimit, ...) as Orleans names it, for clusters that must fail over faster.
            silo.Services.Configure<ClusterMembershipOptions>(builder.Configuration.GetSection(Membership));
            if (options.CollectionAge is { } age)
            {
                silo.Configure<GrainCollectionOptions>(g => g.CollectionAge = age);
            }

            silo.Configure<GrainDirectoryOptions>(d => d.CacheSize = options.DirectoryCacheSize);

            if (options.IsRedis)
            {
                UseRedisClustering(silo, options, builder.Configuration.GetConnectionString("Redis")!);
            }
            else
            {
                silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, null, options.ServiceId, options.ClusterId);
            }

            storage.Add(silo, context);
            silo.AddDashboard();
        });
        return builder;
    }

    /// <summary>
    /// The Orleans and storage options, checked here because the silo is configured from them right here:
    /// a bad value throws with one line per key.
    /// </summary>
    private static (OrleansOptions Orleans, StorageBackend Storage, StorageContext Context) ReadOptions(IConfiguration configuration)
    {
        var unreadable = ConfigurationValues.Problems(configuration, OrleansOptions.Section, typeof(OrleansOptions))
            .Concat(ConfigurationValues.Problems(configuration, Membership, typeof(ClusterMembershipOptions)))
            .Concat(ConfigurationValues.Problems(configuration, StorageOptions.Section, typeof(StorageOptions))).ToList();
        if (unreadable.Count > 0)
        {
            throw new OptionsValidationException(OrleansOptions.Section, typeof(OrleansOptions), unreadable);
        }

        var options = configuration.GetSection(OrleansOptions.Section).Get<OrleansOptions>() ?? new OrleansOptions();
        var context = new StorageContext(configuration, options.DataPath);
        var (backend, storageFailures) = StorageChoice.Choose(
            options, configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions(), context);

        // Redis clustering and Redis storage both need ConnectionStrings:Redis: a key is named once.
        var clustering = options.Validate(configuration.GetConnectionString("Redis")).ToList();
        var failures = clustering.Concat(storageFailures.Where(failure => !clustering.Any(f => Key(f) == Key(failure)))).ToList();
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(OrleansOptions.Section, typeof(OrleansOptions), failures);
        }

        return (options, backend!, context);

        static string Key(string failure) => failure[..Math.Max(0, failure.IndexOf(": ", StringComparison.Ordinal))];
    }

    private static void UseRedisClustering(ISiloBuilder silo, OrleansOptions options, string connectionString)
    {
        var redis = RedisConnection.Of(silo.Services, connectionString);
        silo.UseRedisClustering(o =>
        {
            o.ConfigurationOptions = redis.Configuration;
            o.CreateMultiplexer = _ => redis.ConnectSharedAsync();
        });

        if (RunsInPod())
        {
            // The hosting listens on every address. It would advertise POD_IP, but Orleans' own defaults fill the
            // advertised address first (the host's first address, seen in a test with two interfaces), so the
            // pod IP (or Orleans:AdvertisedIP) is set here; the ports stay the configured ones.
            var advertised = options.AdvertisedIP ?? Environment.GetEnvironmentVariable(KubernetesHostingOptions.PodIPEnvironmentVariable);
            silo.Configure<EndpointOptions>(e =>
            {
                e.SiloPort = options.SiloPort;
                e.GatewayPort = options.GatewayPort;
                if (!string.IsNullOrEmpty(advertised))
                {
                    e.AdvertisedIPAddress = IPAddress.Parse(advertised);
                }
            });
            silo.UseKubernetesHosting();
        }
        else
        {
            var advertised = options.AdvertisedIP is { } ip ? IPAddress.Parse(ip) : null;
            if (advertised is null)
            {
                silo.ConfigureEndpoints(options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true);
            }
            else
            {
                silo.ConfigureEndpoints(advertised, options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true);
            }
        }
    }

    /// <summary>Orleans' Kubernetes hosting needs the pod's downward-API variables and in-cluster credentials.</summary>
    private static bool RunsInPod() =>
        KubernetesClientConfiguration.IsInCluster()
        && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("POD_NAME"))
        && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("POD_NAMESPACE"));
}

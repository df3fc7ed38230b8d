using System.Net;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Processing;
using CiTrigger.Grains.Storage.Redis;
using CiTrigger.Grains.Storage.Sqlite;
using k8s;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Hosting;
using Orleans.Hosting.Kubernetes;

namespace CiTrigger.Silo.Hosting;

public static class OrleansHosting
{
    /// <summary>
    /// The silo: localhost clustering with SQLite state by default; Redis clustering, state and reminders
    /// with <c>Orleans:Clustering=Redis</c>, plus pod-aware hosting when running in Kubernetes.
    /// </summary>
    public static WebApplicationBuilder AddTriggerSilo(this WebApplicationBuilder builder)
    {
        const string Membership = OrleansOptions.Section + ":Membership";
        var unreadable = ConfigurationValues.Problems(builder.Configuration, OrleansOptions.Section, typeof(OrleansOptions))
            .Concat(ConfigurationValues.Problems(builder.Configuration, Membership, typeof(ClusterMembershipOptions))).ToList();
        if (unreadable.Count > 0)
        {
            throw new OptionsValidationException(OrleansOptions.Section, typeof(OrleansOptions), unreadable);
        }

        var options = builder.Configuration.GetSection(OrleansOptions.Section).Get<OrleansOptions>() ?? new OrleansOptions();
        var redisConnection = builder.Configuration.GetConnectionString("Redis");
        var failures = options.Validate(redisConnection).ToList();
        if (failures.Count > 0)
        {
            // The silo is configured from these values right here, so they are checked right here.
            throw new OptionsValidationException(OrleansOptions.Section, typeof(OrleansOptions), failures);
        }

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

            // Failure detection (ProbeTimeout, NumMissedProbesLimit, ...) as Orleans names it, for clusters that must fail over faster.
            silo.Services.Configure<ClusterMembershipOptions>(builder.Configuration.GetSection(Membership));
            if (options.CollectionAge is { } age)
            {
                silo.Configure<GrainCollectionOptions>(g => g.CollectionAge = age);
            }

            if (options.IsRedis)
            {
                UseRedis(silo, options, redisConnection!);
            }
            else
            {
                silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, null, options.ServiceId, options.ClusterId);
                silo.AddSqliteStorage(Path.Combine(options.DataPath, "ci-trigger.db"));
            }

            silo.AddDashboard();
        });
        return builder;
    }

    private static void UseRedis(ISiloBuilder silo, OrleansOptions options, string connectionString)
    {
        var redis = new RedisConnection(connectionString);
        silo.UseRedisClustering(o =>
        {
            o.ConfigurationOptions = redis.Configuration;
            o.CreateMultiplexer = _ => redis.ConnectSharedAsync();
        });
        silo.AddRedisStorage(redis);

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

using System.Reflection;
using System.Text.Json.Nodes;
using CiTrigger.Gateway.Admin;
using CiTrigger.Gateway.Events;
using CiTrigger.Gateway.Forges.GitHub;
using CiTrigger.Gateway.Webhooks;
using CiTrigger.Grains.GitHub;
using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Processing;
using CiTrigger.Grains.Storage;
using CiTrigger.Silo.Hosting;
using CiTrigger.Silo;
using CiTrigger.Tests.Support;
using Microsoft.AspNetCore.Routing;
using Orleans.Configuration;
using Orleans.Hosting.Kubernetes;
using Xunit;

namespace CiTrigger.Tests.Deployment;

/// <summary>
/// Keeps <c>k8s/</c> honest: renders it with kustomize (as a user would) and checks it against the
/// service's real configuration keys, endpoints, ports and the API calls it makes.
/// </summary>
public class KubernetesBaseTests
{
    private static readonly Lazy<IReadOnlyList<JsonObject>> Rendered = new(() => RepositoryFiles.Kustomize("k8s"));

    private static string RepositoryRoot => RepositoryFiles.Root;

    private static JsonObject Single(string kind, string? name = null) =>
        Assert.Single(Rendered.Value, o => o["kind"]!.GetValue<string>() == kind && (name is null || o["metadata"]!["name"]!.GetValue<string>() == name));

    private static JsonObject Silo => Single("Deployment", "k8s-webhook-handler");

    private static JsonObject Container => Silo["spec"]!["template"]!["spec"]!["containers"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "silo")!.AsObject();

    private static Dictionary<string, JsonNode> Env => Container["env"]!.AsArray().ToDictionary(e => e!["name"]!.GetValue<string>(), e => e!);

    private static string EnvValue(string name) => Env[name]["value"]!.GetValue<string>();

    private static Dictionary<string, string> Labels(JsonNode? labels) =>
        labels?.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>()) ?? [];

    private static bool Selects(JsonNode? selector, JsonNode? labels) =>
        Labels(selector).All(kv => Labels(labels).TryGetValue(kv.Key, out var value) && value == kv.Value);

    /// <summary>Every configuration key the service reads, as "Section:Key", from its options classes.</summary>
    private static HashSet<string> ConfigurationKeys()
    {
        var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "ConnectionStrings:Redis", "urls" };
        void Add(string section, Type type)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
            {
                keys.Add($"{section}:{property.Name}");
            }
        }

        Add(WebhookOptions.Section, typeof(WebhookOptions));
        Add(AdminOptions.Section, typeof(AdminOptions));
        Add(GitHubOptions.Section, typeof(GitHubOptions));
        Add(GitHubOptions.Section, typeof(GitHubAppOptions));
        Add(GitHubOptions.Section, typeof(DeliveryRecoveryOptions));
        Add(KubernetesOptions.Section, typeof(KubernetesOptions));
        Add(FilterOptions.Section, typeof(FilterOptions));
        Add(PullRequestOptions.Section, typeof(PullRequestOptions));
        Add(ManifestOptions.Section, typeof(ManifestOptions));
        Add(RetryOptions.Section, typeof(RetryOptions));
        Add(QueueOptions.Section, typeof(QueueOptions));
        Add(DeliveryIndexOptions.Section, typeof(DeliveryIndexOptions));
        Add(OrleansOptions.Section, typeof(OrleansOptions));
        Add(OrleansOptions.Section + ":Membership", typeof(ClusterMembershipOptions));
        Add(StorageOptions.Section, typeof(StorageOptions));
        return keys;
    }

    private static readonly string[] SecretKeys = ["WEBHOOK_SECRET", "GITHUB_TOKEN", "Admin__Token"];

    /// <summary>Environment variables read by name rather than as configuration keys.</summary>
    private static readonly HashSet<string> NamedVariables =
    [
        "WEBHOOK_SECRET", "GITHUB_TOKEN", "KUBECONFIG", "ASPNETCORE_URLS",
        KubernetesHostingOptions.PodNameEnvironmentVariable, KubernetesHostingOptions.PodNamespaceEnvironmentVariable,
        KubernetesHostingOptions.PodIPEnvironmentVariable, KubernetesHostingOptions.ServiceIdEnvironmentVariable,
        KubernetesHostingOptions.ClusterIdEnvironmentVariable,
    ];

    private static bool IsKnown(string variable, HashSet<string> keys)
    {
        var key = variable.Replace("__", ":", StringComparison.Ordinal);
        return NamedVariables.Contains(variable) || keys.Contains(key) || key.StartsWith("Logging:", StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void The_base_renders_offline_with_every_part_the_install_needs()
    {
        var kinds = Rendered.Value.Select(o => $"{o["kind"]}/{o["metadata"]!["name"]}").ToHashSet();

        Assert.Superset(new HashSet<string>
        {
            "ServiceAccount/k8s-webhook-handler", "Role/k8s-webhook-handler", "RoleBinding/k8s-webhook-handler",
            "Deployment/k8s-webhook-handler", "Service/k8s-webhook-handler", "PodDisruptionBudget/k8s-webhook-handler",
            "StatefulSet/redis", "Service/redis", "CustomResourceDefinition/repositories.k8s-webhook-handler.io",
        }, kinds);
        // Everything in the service's namespace but the Repository CRD, which is cluster-scoped like every CRD.
        Assert.All(Rendered.Value.Where(o => o["kind"]!.GetValue<string>() != "CustomResourceDefinition"),
            o => Assert.Equal("ci", o["metadata"]!["namespace"]?.GetValue<string>()));
        Assert.Null(Rendered.Value.Single(o => o["kind"]!.GetValue<string>() == "CustomResourceDefinition")["metadata"]!["namespace"]);
        Assert.Equal(3, Silo["spec"]!["replicas"]!.GetValue<long>());
    }

    [Fact]
    public void Every_environment_variable_and_secret_key_is_a_configuration_key_the_service_reads()
    {
        var keys = ConfigurationKeys();
        var secret = ManifestReader.Read(File.ReadAllText(Path.Combine(RepositoryRoot, "k8s", "secret.example.yaml")), ManifestLimits.Default).Single();
        var secretKeys = secret["stringData"]!.AsObject().Select(kv => kv.Key).ToList();

        Assert.All(Env.Keys, name => Assert.True(IsKnown(name, keys), $"{name} maps to no configuration key"));
        Assert.All(secretKeys, name => Assert.True(IsKnown(name, keys), $"secret key {name} maps to no configuration key"));
        Assert.Equivalent(SecretKeys, secretKeys);
        Assert.Equal(secret["metadata"]!["name"]!.GetValue<string>(), Container["envFrom"]![0]!["secretRef"]!["name"]!.GetValue<string>());
        Assert.Equal(OrleansOptions.Redis, EnvValue("Orleans__Clustering"));
    }

    [Fact]
    public async Task The_probes_hit_endpoints_the_service_serves_on_the_port_it_listens_on()
    {
        await using var app = TriggerApp.Create(["--Webhook:Insecure=true", "--Kubernetes:DryRun=true"]);
        var routes = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/')).ToHashSet();
        var ports = Container["ports"]!.AsArray().ToDictionary(p => p!["name"]!.GetValue<string>(), p => p!["containerPort"]!.GetValue<long>());
        var listening = new Uri(EnvValue("ASPNETCORE_URLS").Replace("+", "localhost", StringComparison.Ordinal)).Port;

        foreach (var (probe, path) in new[] { ("readinessProbe", "/readyz"), ("livenessProbe", "/healthz"), ("startupProbe", "/healthz") })
        {
            var get = Container[probe]!["httpGet"]!;
            Assert.Equal(path, get["path"]!.GetValue<string>());
            Assert.Contains(path, routes);
            Assert.Equal(listening, ports[get["port"]!.GetValue<string>()]);
        }
    }

    [Fact]
    public void Ports_agree_between_the_silo_configuration_the_container_and_the_services()
    {
        var ports = Container["ports"]!.AsArray().ToDictionary(p => p!["name"]!.GetValue<string>(), p => p!["containerPort"]!.GetValue<long>());
        var service = Single("Service", "k8s-webhook-handler");
        var redisService = Single("Service", "redis");
        var redis = Single("StatefulSet", "redis");
        var redisPorts = redis["spec"]!["template"]!["spec"]!["containers"]![0]!["ports"]!.AsArray()
            .ToDictionary(p => p!["name"]!.GetValue<string>(), p => p!["containerPort"]!.GetValue<long>());
        var connection = EnvValue("ConnectionStrings__Redis").Split(':');

        Assert.Equal(long.Parse(EnvValue("Orleans__SiloPort"), System.Globalization.CultureInfo.InvariantCulture), ports["silo"]);
        Assert.Equal(long.Parse(EnvValue("Orleans__GatewayPort"), System.Globalization.CultureInfo.InvariantCulture), ports["gateway"]);
        Assert.Contains(service["spec"]!["ports"]![0]!["targetPort"]!.GetValue<string>(), ports.Keys);
        Assert.Equal(redisService["metadata"]!["name"]!.GetValue<string>(), connection[0]);
        Assert.Equal(long.Parse(connection[1], System.Globalization.CultureInfo.InvariantCulture), redisService["spec"]!["ports"]![0]!["port"]!.GetValue<long>());
        Assert.Contains(redisService["spec"]!["ports"]![0]!["targetPort"]!.GetValue<string>(), redisPorts.Keys);
    }

    [Fact]
    public void Selectors_select_the_pods_they_mean()
    {
        var podLabels = Silo["spec"]!["template"]!["metadata"]!["labels"];
        var redis = Single("StatefulSet", "redis");

        Assert.True(Selects(Silo["spec"]!["selector"]!["matchLabels"], podLabels));
        Assert.True(Selects(Single("Service", "k8s-webhook-handler")["spec"]!["selector"], podLabels));
        Assert.True(Selects(Single("PodDisruptionBudget")["spec"]!["selector"]!["matchLabels"], podLabels));
        Assert.True(Selects(redis["spec"]!["selector"]!["matchLabels"], redis["spec"]!["template"]!["metadata"]!["labels"]));
        Assert.True(Selects(Single("Service", "redis")["spec"]!["selector"], redis["spec"]!["template"]!["metadata"]!["labels"]));
        Assert.False(Selects(Single("Service", "redis")["spec"]!["selector"], podLabels), "the Redis service must not select the silos");
    }

    [Fact]
    public void Pods_carry_the_orleans_identity_labels_the_hosting_reads_and_the_silo_is_configured_with()
    {
        var labels = Labels(Silo["spec"]!["template"]!["metadata"]!["labels"]);

        Assert.Equal(EnvValue("Orleans__ServiceId"), labels[KubernetesHostingOptions.ServiceIdLabel]);
        Assert.Equal(EnvValue("Orleans__ClusterId"), labels[KubernetesHostingOptions.ClusterIdLabel]);
        Assert.Equal($"metadata.labels['{KubernetesHostingOptions.ServiceIdLabel}']",
            Env[KubernetesHostingOptions.ServiceIdEnvironmentVariable]["valueFrom"]!["fieldRef"]!["fieldPath"]!.GetValue<string>());
        Assert.Equal("metadata.name", Env[KubernetesHostingOptions.PodNameEnvironmentVariable]["valueFrom"]!["fieldRef"]!["fieldPath"]!.GetValue<string>());
        Assert.Equal("status.podIP", Env[KubernetesHostingOptions.PodIPEnvironmentVariable]["valueFrom"]!["fieldRef"]!["fieldPath"]!.GetValue<string>());
    }

    [Fact]
    public void The_role_grants_exactly_what_the_applier_the_run_follower_and_orleans_hosting_use_and_no_wildcards()
    {
        var role = Single("Role");
        var rules = role["rules"]!.AsArray().Select(r => (
            Groups: r!["apiGroups"]!.AsArray().Select(g => g!.GetValue<string>()).ToHashSet(),
            Resources: r["resources"]!.AsArray().Select(g => g!.GetValue<string>()).ToHashSet(),
            Verbs: r["verbs"]!.AsArray().Select(g => g!.GetValue<string>()).ToHashSet())).ToList();
        bool Allows(string group, string resource, string verb) =>
            rules.Any(r => r.Groups.Contains(group) && r.Resources.Contains(resource) && r.Verbs.Contains(verb));

        // The kinds the example CI manifest creates, with the verbs the applier needs for them.
        var example = ManifestReader.Read(File.ReadAllText(Path.Combine(RepositoryRoot, "k8s", "examples", "ci-workflow.yaml")), ManifestLimits.Default);
        var plural = new Dictionary<string, (string Group, string Resource)> { ["argoproj.io/v1alpha1/Workflow"] = ("argoproj.io", "workflows") };
        foreach (var document in example)
        {
            var (group, resource) = plural[$"{document["apiVersion"]}/{document["kind"]}"];
            var named = document["metadata"]!["name"] is not null;
            foreach (var verb in KubernetesManifestApplier.VerbsFor(named))
            {
                Assert.True(Allows(group, resource, verb), $"the Role does not allow {verb} on {group}/{resource}");
            }
        }

        foreach (var verb in new[] { "get", "list", "watch", "patch" })
        {
            Assert.True(Allows("", "pods", verb), $"Orleans' Kubernetes hosting needs {verb} on pods");
        }

        foreach (var kind in RunKinds.All)
        {
            Assert.All(kind.Verbs, verb => Assert.True(Allows(kind.Group, kind.Plural, verb), $"following, stopping and pruning runs needs {verb} on {kind.Group}/{kind.Plural}"));
            Assert.All(RunKinds.PruneVerbs, verb => Assert.Contains(verb, kind.Verbs));
            Assert.False(Allows(kind.Group, kind.Plural, "deletecollection"), $"keepRuns deletes {kind.Plural} one by one, as it listed them");
        }

        Assert.All(KubernetesRunSecrets.Verbs, verb => Assert.True(Allows("", "secrets", verb), $"the runs' Git credential Secrets need {verb} on secrets"));
        Assert.True(Allows("", "pods/log", "get"), "a failed run's log needs get on pods/log");
        Assert.False(Allows("", "secrets", "list") || Allows("", "secrets", "watch") || Allows("", "secrets", "update"), "no Secret is read but by name, none replaced whole");

        Assert.False(Allows("batch", "jobs", "create") || Allows("batch", "jobs", "patch"), "the example manifest creates no Jobs");

        Assert.All(rules, r => Assert.DoesNotContain("*", r.Groups.Concat(r.Resources).Concat(r.Verbs)));
        Assert.DoesNotContain(Rendered.Value, o => o["kind"]!.GetValue<string>() is "ClusterRole" or "ClusterRoleBinding");
        var subject = Single("RoleBinding")["subjects"]![0]!;
        Assert.Equal(Silo["spec"]!["template"]!["spec"]!["serviceAccountName"]!.GetValue<string>(), subject["name"]!.GetValue<string>());
    }

    [Fact]
    public void The_github_app_key_can_come_from_an_optional_secret_mounted_read_only_as_a_file()
    {
        var pod = Silo["spec"]!["template"]!["spec"]!;
        var volume = pod["volumes"]!.AsArray().Single(v => v!["name"]!.GetValue<string>() == "github-app")!;
        var mount = Container["volumeMounts"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == "github-app")!;

        Assert.Equal("k8s-webhook-handler-github-app", volume["secret"]!["secretName"]!.GetValue<string>());
        Assert.True(volume["secret"]!["optional"]!.GetValue<bool>(), "token mode must start without the App's Secret");
        Assert.True(mount["readOnly"]!.GetValue<bool>());
        Assert.Equal("/etc/github-app", mount["mountPath"]!.GetValue<string>());
        Assert.Contains("GitHub__PrivateKeyPath=/etc/github-app/private-key.pem", File.ReadAllText(Path.Combine(RepositoryRoot, "docs", "github-app.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void Pods_run_unprivileged_with_resources_and_outlive_an_attempt_on_shutdown()
    {
        var pod = Silo["spec"]!["template"]!["spec"]!;
        var security = Container["securityContext"]!;

        Assert.True(pod["securityContext"]!["runAsNonRoot"]!.GetValue<bool>());
        Assert.True(security["readOnlyRootFilesystem"]!.GetValue<bool>());
        Assert.False(security["allowPrivilegeEscalation"]!.GetValue<bool>());
        Assert.Contains("ALL", security["capabilities"]!["drop"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.NotNull(Container["resources"]!["requests"]);
        Assert.NotNull(Container["resources"]!["limits"]);
        Assert.True(TimeSpan.FromSeconds(pod["terminationGracePeriodSeconds"]!.GetValue<long>()) > new RetryOptions().AttemptTimeout + TimeSpan.FromSeconds(10),
            "the grace period must outlast a processing attempt");
    }

    /// <summary>
    /// 202 means stored: Redis must have the write on disk before it answers, or a node failure loses
    /// acknowledged events (with <c>everysec</c>, up to a second or two of them). The base's own arguments are
    /// given to a real redis-server, which is asked what it runs with.
    /// </summary>
    [Fact]
    public async Task Redis_keeps_its_data_on_a_volume_in_an_append_only_file_fsynced_before_every_answer()
    {
        var redis = Single("StatefulSet", "redis");
        var args = redis["spec"]!["template"]!["spec"]!["containers"]![0]!["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();

        await using var server = await Fakes.RedisServer.StartAsync(args);

        Assert.Equal(["appendonly", "yes"], (await server.CommandAsync("CONFIG", "GET", "appendonly")).Where(l => !l.StartsWith('*') && !l.StartsWith('$')));
        Assert.Equal(["appendfsync", "always"], (await server.CommandAsync("CONFIG", "GET", "appendfsync")).Where(l => !l.StartsWith('*') && !l.StartsWith('$')));
        Assert.NotEmpty(redis["spec"]!["volumeClaimTemplates"]!.AsArray());
        Assert.Equal("/data", redis["spec"]!["template"]!["spec"]!["containers"]![0]!["volumeMounts"]![0]!["mountPath"]!.GetValue<string>());
    }

    [Fact]
    public void The_example_ci_workflow_passes_the_services_own_validation_and_chooses_by_event_type()
    {
        var path = Path.Combine(RepositoryRoot, "k8s", "examples", "ci-workflow.yaml");
        var documents = ManifestReader.Read(File.ReadAllText(path), ManifestLimits.Default);
        var workflow = Assert.Single(documents);
        var policy = new ManifestPolicy(new ManifestOptions());

        var target = policy.Check(workflow, 0, namespaced: true);

        Assert.Equal(("Workflow", "ci", null, "ci-"), (target.Kind, target.Namespace, target.Name, target.GenerateName));
        var text = File.ReadAllText(path);
        Assert.Contains("k8s-webhook-handler.io/event_type}}' == 'push'", text, StringComparison.Ordinal);
        Assert.Contains("k8s-webhook-handler.io/event_type}}' == 'delete'", text, StringComparison.Ordinal);
        Assert.Contains("k8s-webhook-handler.io/event_type}}' == 'pull_request' && '{{workflow.annotations.k8s-webhook-handler.io/event_action}}' == 'closed'", text, StringComparison.Ordinal);
        Assert.Contains("+{{workflow.annotations.k8s-webhook-handler.io/ref}}:refs/ci/checkout", text, StringComparison.Ordinal);
        Assert.Equal("ci-workflow", workflow["spec"]!["serviceAccountName"]!.GetValue<string>());

        // It clones over HTTPS with the run's own read-only credential, no deploy key.
        var git = workflow["spec"]!["templates"]!.AsArray().Single(t => t!["name"]!.GetValue<string>() == "build")!["inputs"]!["artifacts"]![0]!["git"]!;
        Assert.Equal(("https://github.com/{{ repo_name }}.git", "{{ git_auth_secret }}", "username", "{{ git_auth_secret }}", "password"),
            (git["repo"]!.GetValue<string>(), git["usernameSecret"]!["name"]!.GetValue<string>(), git["usernameSecret"]!["key"]!.GetValue<string>(),
                git["passwordSecret"]!["name"]!.GetValue<string>(), git["passwordSecret"]!["key"]!.GetValue<string>()));
        Assert.Null(git["sshPrivateKeySecret"]);
        Assert.Contains("git_auth_secret", ManifestParameters.Names);
        var rbac = ManifestReader.Read(File.ReadAllText(Path.Combine(RepositoryRoot, "k8s", "examples", "argo-rbac.yaml")), ManifestLimits.Default);
        Assert.Contains(rbac, o => o["kind"]!.GetValue<string>() == "ServiceAccount" && o["metadata"]!["name"]!.GetValue<string>() == "ci-workflow");
    }
}

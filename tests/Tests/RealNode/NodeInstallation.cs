using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace CiTrigger.Tests.RealNode;

/// <summary>
/// The service installed on the local node the way a user installs it: namespace <c>ci</c>, a Secret with the
/// installation's own settings (<c>k8s-webhook-handler-local</c>, which the overlay reads), then
/// <c>kubectl apply -k k8s/overlays/local</c>, and a Role for the kinds the tests' manifests create, granted
/// as docs/install.md tells users to. GitHub is the strict fake, listening on the node's bridge address so
/// that the silo pods reach it; the service runs as a GitHub App installed on the tests' repositories.
/// </summary>
public sealed class NodeInstallation : IAsyncLifetime
{
    public const string Namespace = "ci";
    public const string Deployment = "k8s-webhook-handler";
    public const string SiloSelector = "app.kubernetes.io/name=k8s-webhook-handler";
    public const long InstallationId = 23;
    public const string StatusContext = "ci/trigger";

    private readonly string adminToken = Convert.ToHexString(RandomNumberGenerator.GetBytes(20)).ToLowerInvariant();
    private readonly Dictionary<string, string> heads = new(StringComparer.Ordinal);
    private AppIdentity app = null!;

    public LocalNode Node { get; private set; } = null!;

    public FakeGitHubApi GitHub { get; private set; } = null!;

    /// <summary>The Service's address (kube-proxy spreads requests over the silo pods).</summary>
    public Uri ServiceUrl { get; private set; } = null!;

    /// <summary>Requests to the Service, the admin API's bearer token included.</summary>
    public HttpClient Client { get; private set; } = null!;

    public IKubernetes Admin => Node.Admin;

    public FakeGitHubApi.GitHubApp App => app.App;

    public async ValueTask InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        Node = await LocalNode.StartAsync();
        GitHub = await FakeGitHubApi.StartAsync(address: LocalNode.HostAddress);
        GitHub.Signer = (body, secret) => GitHubWebhook.Sign(body, secret);
        app = AppIdentity.Register(GitHub);

        await RemoveNamespaceAsync();
        await Admin.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } });
        await Admin.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "k8s-webhook-handler-local" },
            StringData = Settings(),
        }, Namespace);
        // Argo's Workflow and Tekton's TaskRun kinds as the real-cluster tests define them, before the silos start
        // (a kind served later is looked for again only after Kubernetes:DiscoveryTtl); no controller runs them:
        // RunLogTests plays those controllers.
        foreach (var crd in new[] { "workflow-crd.yaml", "tekton-taskrun-crd.yaml" })
        {
            await Node.KubectlAsync("apply", "-f", Path.Combine(Payloads.FixturesRoot, "kube", crd));
        }

        await Node.KubectlAsync("wait", "--for=condition=Established", "--timeout=60s", "crd/workflows.argoproj.io", "crd/taskruns.tekton.dev");
        await Node.KubectlAsync("apply", "-k", Path.Combine(RepositoryFiles.Root, "k8s", "overlays", "local"));

        // The manifests of these tests create Jobs, ConfigMaps and TaskRuns; the shipped Role does not grant that.
        await GrantAsync("batch", "jobs", "create", "get", "list", "watch", "delete");
        await GrantAsync("", "configmaps", "create", "get", "list");
        await GrantAsync("tekton.dev", "taskruns", "create");

        await WaitHealthyAsync(TimeSpan.FromMinutes(4));
        var service = await Admin.CoreV1.ReadNamespacedServiceAsync(Deployment, Namespace);
        ServiceUrl = new Uri($"http://{service.Spec.ClusterIP}/");
        Client = new HttpClient { BaseAddress = ServiceUrl, Timeout = TimeSpan.FromSeconds(30) };
        Client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminToken);
        App.Webhook = (new Uri(ServiceUrl, GitHubWebhook.Path), TriggerHost.Secret);
        InstalledIn = clock.Elapsed;
    }

    /// <summary>How long the installation took, cluster included when this process started it.</summary>
    public TimeSpan InstalledIn { get; private set; }

    /// <summary>A repository of the test's own, the App installed on it.</summary>
    public FakeGitHubApi.Repository Repo(string prefix)
    {
        var name = $"octo/{prefix}-{Guid.NewGuid():N}"[..40];
        GitHub.Install(App, InstallationId, name);
        return GitHub.Repo(name);
    }

    /// <summary>
    /// Commits <paramref name="manifest"/> on <paramref name="branch"/> and delivers the push once, as GitHub
    /// does, to the Service; the delivery goes into the App's delivery log with the answer GitHub would see
    /// (0 when none came). Returns the delivery id and that answer.
    /// </summary>
    public async Task<(string Delivery, int Status)> PushAsync(FakeGitHubApi.Repository repo, string branch, string manifest, TimeSpan? timeout = null, Uri? target = null)
    {
        string before, after;
        lock (heads)
        {
            before = heads.GetValueOrDefault(repo.FullName + branch, Payloads.Sha(1));
            after = repo.Commit(branch, ".ci/workflow.yaml", manifest);
            heads[repo.FullName + branch] = after;
        }

        var delivery = Guid.NewGuid().ToString();
        var body = Encoding.UTF8.GetBytes(Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/" + branch, before, after), InstallationId));
        var started = GitHub.Time.GetUtcNow();
        var status = await DeliverAsync("push", body, delivery, timeout, target);
        App.Deliveries.Add("push", body, status, started, delivery, installationId: InstallationId, repositoryId: repo.Id);
        return (delivery, status);
    }

    /// <summary>
    /// Delivers again until the service acknowledges it (202, or 200 duplicate when an earlier answer was lost);
    /// to <paramref name="target"/> (a silo pod's own address) the first time when given, then to the Service.
    /// </summary>
    public async Task<string> PushAcknowledgedAsync(FakeGitHubApi.Repository repo, string branch, string manifest, Uri? target = null)
    {
        var (delivery, status) = await PushAsync(repo, branch, manifest, TimeSpan.FromSeconds(10), target);
        var body = App.Deliveries.All.Last(d => d.DeliveryGuid == delivery).Payload;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (status is not (202 or 200))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"push {delivery} was never acknowledged (last answer {status})");
            }

            await Task.Delay(250);
            status = await DeliverAsync("push", body, delivery, TimeSpan.FromSeconds(10));
        }

        return delivery;
    }

    /// <summary>One POST of a signed delivery to the Service (or <paramref name="target"/>); the status code, or 0 when no answer came.</summary>
    public async Task<int> DeliverAsync(string eventType, byte[] body, string delivery, TimeSpan? timeout = null, Uri? target = null)
    {
        using var http = new HttpClient { BaseAddress = target ?? ServiceUrl, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        try
        {
            using var response = await http.SendAsync(GitHubWebhook.Request(eventType, body, "application/json", delivery, TriggerHost.Secret));
            return (int)response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Waits until the service says every one of <paramref name="deliveries"/> is <c>applied</c> (admin API), or
    /// finished so long ago that its ref no longer keeps it: final states, so nothing of theirs is created after them.
    /// </summary>
    public async Task WaitAppliedAsync(IReadOnlyCollection<string> deliveries, TimeSpan timeout)
    {
        var pending = new System.Collections.Concurrent.ConcurrentDictionary<string, string>(
            deliveries.Select(d => KeyValuePair.Create(d, "not asked yet")), StringComparer.Ordinal);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            await Parallel.ForEachAsync(pending.Keys.ToList(), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (delivery, ct) =>
            {
                using var response = await Client.GetAsync($"admin/deliveries/{delivery}", ct);
                var body = await response.Content.ReadAsStringAsync(ct);
                var status = response.IsSuccessStatusCode ? JsonNode.Parse(body)?["status"]?.GetValue<string>() : $"{(int)response.StatusCode} {body}";
                // A ref keeps only its newest events (Handler:HistorySize); one it let go of had finished.
                if (status == "applied" || (response.StatusCode == HttpStatusCode.NotFound && body.Contains("no longer keeps it in its history", StringComparison.Ordinal)))
                {
                    pending.TryRemove(delivery, out _);
                }
                else
                {
                    pending[delivery] = status ?? "no status";
                }
            });
            if (pending.IsEmpty)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{pending.Count} of {deliveries.Count} deliveries not applied after {timeout.TotalSeconds:0} s: "
                    + string.Join(", ", pending.Take(5).Select(p => $"{p.Key} {p.Value}")));
            }

            await Task.Delay(250);
        }
    }

    /// <summary>The check run of a delivery once it has <paramref name="status"/>.</summary>
    public Task<FakeGitHubApi.CheckRun> CheckAsync(string delivery, string status, TimeSpan timeout) =>
        Eventually.Until(() => Task.FromResult(GitHub.CheckRuns.FirstOrDefault(r => r.ExternalId == delivery && r.Status == status)),
            timeout, $"the check of {delivery} {status}");

    /// <summary>The silo pods, terminating ones included.</summary>
    public async Task<IReadOnlyList<V1Pod>> SiloPodsAsync() =>
        (await Admin.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: SiloSelector)).Items.ToList();

    /// <summary>
    /// Waits until the Deployment is rolled out: its replicas all updated, available and Ready through their
    /// readiness probes, no other silo pod left, and every silo Active in the one Orleans membership table.
    /// </summary>
    public async Task WaitHealthyAsync(TimeSpan timeout)
    {
        await Node.RunKubectlAsync(["-n", Namespace, "rollout", "status", "statefulset/redis", $"--timeout={(int)timeout.TotalSeconds}s"], timeout: timeout);
        await Node.RunKubectlAsync(["-n", Namespace, "rollout", "status", $"deployment/{Deployment}", $"--timeout={(int)timeout.TotalSeconds}s"], timeout: timeout);
        await Eventually.Until(async () =>
        {
            var deployment = await Admin.AppsV1.ReadNamespacedDeploymentAsync(Deployment, Namespace);
            var pods = await SiloPodsAsync();
            if (pods.Count != deployment.Spec.Replicas || pods.Any(p => p.Metadata.DeletionTimestamp is not null || !IsReady(p)))
            {
                return null;
            }

            var active = await ActiveSilosAsync();
            return pods.All(p => active.Contains(p.Status.PodIP)) && active.Count == pods.Count ? pods : null;
        }, timeout, "every silo pod Ready and Active in the membership table, and no other");
    }

    /// <summary>A silo pod's own HTTP address (not through the Service).</summary>
    public static Uri PodUrl(V1Pod pod) => new($"http://{pod.Status.PodIP}:8080/");

    public static bool IsReady(V1Pod pod) =>
        pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    /// <summary>The addresses of the silos the Orleans membership table in Redis lists as Active.</summary>
    public async Task<IReadOnlyList<string>> ActiveSilosAsync()
    {
        var (exitCode, output) = await Node.RunKubectlAsync(["-n", Namespace, "exec", "redis-0", "--", "redis-cli", "--no-raw", "hvals", $"{Deployment}/members/default"], check: false);
        if (exitCode != 0)
        {
            return [];
        }

        var active = new List<string>();
        foreach (var line in output.Split('\n').Where(l => l.Contains("SiloAddress", StringComparison.Ordinal)))
        {
            // redis-cli --no-raw prints: 1) "{\"SiloAddress\":...}"
            var quoted = line[line.IndexOf('"', StringComparison.Ordinal)..].Trim();
            var json = JsonNode.Parse(System.Text.Json.JsonSerializer.Deserialize<string>(quoted)!)!;
            if (json["Status"]!.GetValue<int>() == 3)
            {
                active.Add(json["SiloAddress"]!["SiloAddress"]!.GetValue<string>().Split(':')[0]);
            }
        }

        return active;
    }

    /// <summary>The ConfigMaps the service created for <paramref name="repo"/>, in the order the API server stored them.</summary>
    public async Task<IReadOnlyList<V1ConfigMap>> ConfigMapsAsync(FakeGitHubApi.Repository repo) =>
        [.. (await Admin.CoreV1.ListNamespacedConfigMapAsync(Namespace, labelSelector: "k8s-webhook-handler.io/delivery")).Items
            .Where(c => c.Metadata.Annotations is { } a && a.TryGetValue("k8s-webhook-handler.io/repo_name", out var name) && name == repo.FullName)
            .OrderBy(c => long.Parse(c.Metadata.ResourceVersion, CultureInfo.InvariantCulture))];

    /// <summary>The delivery an object was created for (its label), or null.</summary>
    public static string? DeliveryOf(V1ObjectMeta metadata) =>
        metadata.Labels is { } labels && labels.TryGetValue("k8s-webhook-handler.io/delivery", out var delivery) ? delivery : null;

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (Node is not null && GitHub is not null)
        {
            await Node.RunKubectlAsync(["delete", "namespace", Namespace, "--wait=false"], check: false);
        }

        if (GitHub is not null)
        {
            await GitHub.DisposeAsync();
        }

        app?.Dispose();
        if (Node is not null)
        {
            await Node.DisposeAsync();
        }
    }

    /// <summary>
    /// The installation's own settings, as environment variables of the silo pods: the App and the fake GitHub,
    /// reports as check runs, superseded runs stopped, and retries, recovery and failure detection on a test's
    /// time scale (the values the in-process tests use).
    /// </summary>
    private Dictionary<string, string> Settings()
    {
        var settings = ServiceSettings.Combine(
            app.Settings(new Dictionary<string, string>
            {
                ["Admin:Token"] = adminToken,
                ["GitHub:BaseUrl"] = GitHub.BaseAddress.ToString(),
                ["GitHub:ReportStatus"] = "true",
                ["GitHub:StatusContext"] = StatusContext,
                ["GitHub:RecoveryInterval"] = "00:00:05",
                ["Handler:CancelSuperseded"] = "true",
                ["Handler:ReorderWindow"] = "00:00:01",
                ["Orleans:Membership:ProbeTimeout"] = "00:00:01",
                ["Orleans:Membership:NumMissedProbesLimit"] = "2",
                ["Orleans:Membership:NumVotesForDeathDeclaration"] = "1",
            }),
            ServiceSettings.SingleFile,
            ServiceSettings.FastRetry,
            ServiceSettings.FastRecovery);
        var environment = settings.ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value);
        environment["WEBHOOK_SECRET"] = TriggerHost.Secret;
        environment["GITHUB_TOKEN"] = "";
        return environment;
    }

    private Task GrantAsync(string group, string plural, params string[] verbs) =>
        Grants.GrantAsync(Admin, Namespace, Deployment, group, plural, verbs);

    /// <summary>
    /// An earlier run's installation on a cluster started by hand goes first, and the volumes its claims held
    /// are made free again: cluster.sh's hostPath volumes are Retain (no provisioner deletes them), so a
    /// Released one is emptied and its claimRef removed, as an administrator reclaims one by hand.
    /// </summary>
    private async Task RemoveNamespaceAsync()
    {
        try
        {
            await Admin.CoreV1.DeleteNamespaceAsync(Namespace);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            await ReclaimVolumesAsync();
            return;
        }

        await Eventually.Until(async () =>
        {
            try
            {
                await Admin.CoreV1.ReadNamespaceAsync(Namespace);
                return null;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return new object();
            }
        }, TimeSpan.FromMinutes(2), $"namespace {Namespace} of an earlier run to be deleted");
        await ReclaimVolumesAsync();
    }

    private async Task ReclaimVolumesAsync()
    {
        foreach (var volume in (await Admin.CoreV1.ListPersistentVolumeAsync()).Items
            .Where(v => v.Status?.Phase == "Released" && v.Spec.ClaimRef?.NamespaceProperty == Namespace && v.Spec.HostPath?.Path is { Length: > 0 }))
        {
            foreach (var entry in new DirectoryInfo(volume.Spec.HostPath.Path).EnumerateFileSystemInfos())
            {
                if (entry is DirectoryInfo directory)
                {
                    directory.Delete(recursive: true);
                }
                else
                {
                    entry.Delete();
                }
            }

            await Admin.CoreV1.PatchPersistentVolumeAsync(new V1Patch("{\"spec\":{\"claimRef\":null}}", V1Patch.PatchType.MergePatch), volume.Metadata.Name);
        }
    }
}

/// <summary>
/// The real-node tests share one installation and change it (kill silos, roll, drain), so they run one after
/// another and after every other test (not beside them: the node's pods share the machine's two cores).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OneNode : ICollectionFixture<NodeInstallation>
{
    public const string Name = "Real node";
}

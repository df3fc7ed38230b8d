using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Support;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace CiTrigger.Tests.RealCluster;

/// <summary>
/// A real API server prepared the way a user's cluster is before the service is installed: the Workflow
/// CRD (and Tekton's PipelineRun and TaskRun CRDs), the service's own Repository CRD from <c>k8s/</c>, namespace <c>ci</c>, and the ServiceAccount, Role and RoleBinding rendered from <c>k8s/</c>. The
/// service gets a token of that service account from the TokenRequest API, so it runs with exactly the
/// rights the shipped Role gives it.
/// </summary>
public sealed class RealCluster : IAsyncDisposable
{
    public const string Namespace = "ci";
    public const string ServiceAccount = "k8s-webhook-handler";
    public const string WorkflowGroup = "argoproj.io";
    public const string WorkflowVersion = "v1alpha1";

    private RealCluster(KubeApiServer server, IKubernetes admin, string token)
    {
        Server = server;
        Admin = admin;
        ServiceAccountToken = token;
    }

    public KubeApiServer Server { get; }

    /// <summary>A client in group system:masters, for what the tests do as the cluster's administrator.</summary>
    public IKubernetes Admin { get; }

    /// <summary>A token of ci/k8s-webhook-handler issued by the TokenRequest API.</summary>
    public string ServiceAccountToken { get; }

    public static async Task<RealCluster> StartAsync()
    {
        var server = await KubeApiServer.StartAsync();
        try
        {
            var admin = new k8s.Kubernetes(Configuration(server, server.AdminToken));
            foreach (var file in new[] { "workflow-crd.yaml", "tekton-pipelinerun-crd.yaml", "tekton-taskrun-crd.yaml" })
            {
                var crd = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(await File.ReadAllTextAsync(Path.Combine(Payloads.FixturesRoot, "kube", file)));
                await InstallCrdAsync(admin, server, crd);
            }

            await admin.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } });

            var rendered = RepositoryFiles.Kustomize("k8s");
            foreach (var document in rendered.Where(d => d["kind"]!.GetValue<string>() == "CustomResourceDefinition"))
            {
                // The service's own CRD (Repository), as a user installs it with the base.
                await InstallCrdAsync(admin, server, KubernetesJson.Deserialize<V1CustomResourceDefinition>(document.ToJsonString()));
            }

            foreach (var document in rendered.Where(d => d["kind"]!.GetValue<string>() is "ServiceAccount" or "Role" or "RoleBinding"))
            {
                var json = document.ToJsonString();
                _ = document["kind"]!.GetValue<string>() switch
                {
                    "ServiceAccount" => await admin.CoreV1.CreateNamespacedServiceAccountAsync(KubernetesJson.Deserialize<V1ServiceAccount>(json), Namespace) as object,
                    "Role" => await admin.RbacAuthorizationV1.CreateNamespacedRoleAsync(KubernetesJson.Deserialize<V1Role>(json), Namespace),
                    _ => await admin.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(KubernetesJson.Deserialize<V1RoleBinding>(json), Namespace),
                };
            }

            var token = await TokenAsync(admin, ServiceAccount);
            return new RealCluster(server, admin, token);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A token for a service account of namespace ci, as the kubelet would project it into a pod.</summary>
    public static async Task<string> TokenAsync(IKubernetes admin, string serviceAccount)
    {
        var request = await admin.CoreV1.CreateNamespacedServiceAccountTokenAsync(
            new Authenticationv1TokenRequest { Spec = new V1TokenRequestSpec { ExpirationSeconds = 7 * 24 * 3600 } }, serviceAccount, Namespace);
        return request.Status.Token;
    }

    public static KubernetesClientConfiguration Configuration(KubeApiServer server, string token) => new()
    {
        Host = server.Url.ToString(),
        AccessToken = token,
        SslCaCerts = [X509CertificateLoader.LoadCertificate(server.Ca.RawData)],
    };

    /// <summary>Creates a CRD and waits until it is established and served in discovery.</summary>
    public Task InstallCrdAsync(V1CustomResourceDefinition crd) => InstallCrdAsync(Admin, Server, crd);

    /// <summary>
    /// A kubeconfig for the service: this server with its CA and <paramref name="token"/>, or, without a
    /// token, a user with no credentials at all at <paramref name="server"/> (the <c>kubectl proxy</c> case).
    /// </summary>
    public string WriteKubeConfig(string directory, string? token, Uri? server = null)
    {
        var path = Path.Combine(directory, token is null ? "anonymous.kubeconfig" : "kubeconfig");
        var user = token is null ? "{}" : $"\n    token: {token}";
        var ca = server is null ? $"\n    certificate-authority: {Server.CaPath}" : "";
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: real
              cluster:
                server: {(server ?? Server.Url).ToString().TrimEnd('/')}{ca}
            users:
            - name: service
              user: {user}
            contexts:
            - name: real
              context:
                cluster: real
                user: service
                namespace: {Namespace}
            current-context: real
            """);
        return path;
    }

    /// <summary>Runs kubectl (any version: it only needs discovery and the v1 review APIs) with a kubeconfig.</summary>
    public static async Task<(int ExitCode, string Output)> KubectlAsync(string kubeconfig, params string[] arguments)
    {
        var start = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])[$"--kubeconfig={kubeconfig}", .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("kubectl could not be started");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, (await output).Trim() + (await error).Trim());
    }

    /// <summary>The Workflows in ci that carry a delivery's label, as the API server lists them.</summary>
    public async Task<IReadOnlyList<JsonObject>> WorkflowsOfDeliveryAsync(string delivery, string? @namespace = Namespace)
    {
        var selector = $"k8s-webhook-handler.io/delivery={delivery}";
        var list = @namespace is null
            ? await Admin.CustomObjects.ListClusterCustomObjectAsync(WorkflowGroup, WorkflowVersion, "workflows", labelSelector: selector)
            : await Admin.CustomObjects.ListNamespacedCustomObjectAsync(WorkflowGroup, WorkflowVersion, @namespace, "workflows", labelSelector: selector);
        return [.. JsonSerializer.SerializeToNode(list)!["items"]!.AsArray().Select(i => i!.AsObject())];
    }

    /// <summary>
    /// A Role and RoleBinding of its own for the service account on one resource, the way docs/install.md tells users
    /// to grant further kinds; granting the same resource again changes nothing.
    /// </summary>
    public Task GrantAsync(string group, string plural, params string[] verbs) =>
        Grants.GrantAsync(Admin, Namespace, ServiceAccount, group, plural, verbs);

    /// <summary>One Endpoints object of ci as JSON, or null when there is none of that name.</summary>
    public async Task<JsonObject?> EndpointsAsync(string name)
    {
        try
        {
            return JsonSerializer.SerializeToNode(await Admin.CoreV1.ReadNamespacedEndpointsAsync(name, Namespace))!.AsObject();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>One Workflow of ci, or null when there is none of that name.</summary>
    public async Task<JsonObject?> WorkflowAsync(string name)
    {
        try
        {
            var found = await Admin.CustomObjects.GetNamespacedCustomObjectAsync(WorkflowGroup, WorkflowVersion, Namespace, "workflows", name);
            return JsonSerializer.SerializeToNode(found)!.AsObject();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await Server.DisposeAsync();
    }

    private static async Task InstallCrdAsync(IKubernetes admin, KubeApiServer server, V1CustomResourceDefinition crd)
    {
        await admin.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
        var version = crd.Spec.Versions.Single(v => v.Served).Name;
        using var http = server.HttpClient(server.AdminToken);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var current = await admin.ApiextensionsV1.ReadCustomResourceDefinitionAsync(crd.Metadata.Name);
            var established = current.Status?.Conditions?.Any(c => c.Type == "Established" && c.Status == "True") == true;
            using var discovery = await http.GetAsync(new Uri($"/apis/{crd.Spec.Group}/{version}", UriKind.Relative));
            if (established && discovery.IsSuccessStatusCode
                && (await discovery.Content.ReadAsStringAsync()).Contains($"\"name\":\"{crd.Spec.Names.Plural}\"", StringComparison.Ordinal))
            {
                return;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"CRD {crd.Metadata.Name} was not established and served within 30 s");
            }

            await Task.Delay(50);
        }
    }
}

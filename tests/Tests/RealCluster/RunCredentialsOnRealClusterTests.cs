using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Processing;
using CiTrigger.Tests.Support;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace CiTrigger.Tests.RealCluster;

/// <summary>
/// Per-run Git credentials against kube-apiserver v1.20 with the service account's token (exactly the Role in k8s/):
/// the Secret the service makes is accepted with its type, keys and ownerReference, and the service deletes it when
/// the run finishes. This cluster has no garbage collector (no controller manager), so for Kubernetes' half of the
/// promise the ownerReference is checked to name the run object by its uid.
/// </summary>
public sealed class RunCredentialsOnRealClusterTests(RealClusterFixture fixture)
{
    /// <summary>The installation the push payloads of <see cref="RealClusterService.PushAsync"/> name (that of GitHub's example).</summary>
    private const long Installation = 1;

    private const string Cloning = """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata:
          generateName: ci-
        spec:
          entrypoint: clone
          templates:
          - name: clone
            inputs:
              artifacts:
              - name: source
                path: /src
                git:
                  repo: https://github.com/{{ repo_name }}.git
                  revision: "{{ revision }}"
                  usernameSecret: {name: "{{ git_auth_secret }}", key: username}
                  passwordSecret: {name: "{{ git_auth_secret }}", key: password}
            container:
              image: alpine/git:2.45.2
              args: ["-C", "/src", "log", "-1"]
        """;

    private static async Task<V1Secret?> SecretAsync(RealCluster cluster, string name)
    {
        try
        {
            return await cluster.Admin.CoreV1.ReadNamespacedSecretAsync(name, RealCluster.Namespace);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    [Fact]
    public async Task The_secret_is_accepted_with_its_owner_the_workflow_and_deleted_by_the_service_when_the_run_finishes()
    {
        var cluster = await fixture.GetAsync();
        var (service, app) = await RealClusterService.StartAppAsync(cluster);
        await using var _ = service;
        using var __ = app;
        var repo = service.NewRepo();
        service.GitHub.Install(app.App, Installation, repo.FullName);

        var delivery = await service.PushAsync(repo, Cloning);
        var state = await service.FinishedAsync(repo);

        var entry = state["history"]![0]!;
        Assert.True(entry["outcome"]!.GetValue<string>() == "applied", entry.ToJsonString());
        Assert.Null(entry["run"]!["finishedAt"]);
        var name = RunCredentials.SecretName(delivery);
        var workflow = Assert.Single(await cluster.WorkflowsOfDeliveryAsync(delivery));
        Assert.Equal(name, workflow["metadata"]!["annotations"]!["k8s-webhook-handler.io/git-auth-secret"]!.GetValue<string>());
        var git = workflow["spec"]!["templates"]![0]!["inputs"]!["artifacts"]![0]!["git"]!;
        Assert.Equal((name, name), (git["usernameSecret"]!["name"]!.GetValue<string>(), git["passwordSecret"]!["name"]!.GetValue<string>()));

        var secret = (await SecretAsync(cluster, name))!;
        Assert.Equal("kubernetes.io/basic-auth", secret.Type);
        Assert.Equal([".git-credentials", "password", "username"], secret.Data.Keys.Order(StringComparer.Ordinal));
        var token = Encoding.UTF8.GetString(secret.Data["password"]);
        Assert.Equal("x-access-token", Encoding.UTF8.GetString(secret.Data["username"]));
        Assert.Equal($"http://x-access-token:{token}@{service.GitHub.BaseAddress.Authority}\n", Encoding.UTF8.GetString(secret.Data[".git-credentials"]));
        Assert.Equal(delivery, secret.Metadata.Labels["k8s-webhook-handler.io/delivery"]);
        var owner = Assert.Single(secret.Metadata.OwnerReferences);
        Assert.Equal(("argoproj.io/v1alpha1", "Workflow", workflow["metadata"]!["name"]!.GetValue<string>(), workflow["metadata"]!["uid"]!.GetValue<string>()),
            (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid));
        var asked = Assert.Single(service.GitHub.RestrictedTokenRequests);
        var expected = new JsonObject { ["repositories"] = new JsonArray(repo.FullName.Split('/')[1]), ["permissions"] = new JsonObject { ["contents"] = "read" } };
        Assert.True(JsonNode.DeepEquals(expected, JsonNode.Parse(asked.Body)), asked.Body);
        using (var http = new HttpClient { BaseAddress = new Uri(service.GitHub.BaseAddress, "api/v3/") })
        {
            http.DefaultRequestHeaders.UserAgent.ParseAdd("real-cluster-test");
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("token", token);
            using var read = await http.GetAsync(new Uri($"repos/{repo.FullName}/contents/.ci/workflow.yaml?ref={repo.Branches["main"]}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        // Argo's controller ends the run (here the test, through the status subresource): the service deletes the Secret.
        await cluster.Admin.CustomObjects.PatchNamespacedCustomObjectStatusAsync(new V1Patch(JsonNode.Parse("""{"status":{"phase":"Succeeded"}}""")!, V1Patch.PatchType.MergePatch),
            RealCluster.WorkflowGroup, RealCluster.WorkflowVersion, RealCluster.Namespace, "workflows", workflow["metadata"]!["name"]!.GetValue<string>());

        await Eventually.UntilAsync(async () => await SecretAsync(cluster, name) is null, TimeSpan.FromSeconds(30), "the Secret deleted when the run finished");
        var finished = await Eventually.Until(async () =>
        {
            var now = await service.FinishedAsync(repo);
            return now["history"]![0]!["run"]?["finishedAt"] is not null ? now : null;
        }, TimeSpan.FromSeconds(30), "the run recorded finished");
        Assert.Equal("success", finished["history"]![0]!["run"]!["result"]!.GetValue<string>());
    }
}

using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Processing;
using CiTrigger.Tests.EndToEnd;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.GitHubApp;

/// <summary>
/// Per-run Git credentials end to end in App mode (on by default there): the token each applied event's run gets,
/// what GitHub lets it do, the Secret it is kept in and how long that Secret lives. The fake GitHub validates the
/// token request and enforces the token's narrowing; the fake cluster validates the Secret and its ownerReferences
/// (both checked against kube-apiserver by RealCluster/FakeAgreesWithRealServerTests).
/// </summary>
public sealed class RunCredentialTests
{
    private const long Installation = 91;

    /// <summary>A Workflow whose step takes the run's credential from its Secret, by the parameter.</summary>
    private const string Cloning = """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata:
          generateName: ci-
        spec:
          entrypoint: clone
          templates:
          - name: clone
            container:
              image: alpine/git:2.45.2
              env:
              - name: GIT_PASSWORD
                valueFrom:
                  secretKeyRef: {name: "{{ git_auth_secret }}", key: password}
        """;

    private static async Task<(IsolatedService Env, AppIdentity App)> StartAsync(IDictionary<string, string>? more = null)
    {
        AppIdentity? app = null;
        var env = await IsolatedService.StartAsync(github => (app = AppIdentity.Register(github)).Settings(more));
        return (env, app!);
    }

    private static JsonObject Body(RecordedGitHubRequest request) => JsonNode.Parse(request.Body)!.AsObject();

    private static JsonObject? Secret(FakeKubernetesApi kubernetes) => kubernetes.Objects.SingleOrDefault(o => o["kind"]!.GetValue<string>() == "Secret");

    private static string Data(JsonObject secret, string key) => Encoding.UTF8.GetString(Convert.FromBase64String(secret["data"]![key]!.GetValue<string>()));

    /// <summary>What GitHub answers <paramref name="token"/> for a request.</summary>
    private static async Task<int> AskAsync(FakeGitHubApi github, string token, HttpMethod method, string path, string? body = null)
    {
        using var http = new HttpClient { BaseAddress = new Uri(github.BaseAddress, "api/v3/") };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("run-credential-test");
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("token", token);
        using var response = await http.SendAsync(request);
        return (int)response.StatusCode;
    }

    [Fact]
    public async Task A_push_gets_a_read_only_token_of_its_repository_in_a_secret_its_workflow_names_and_owns_which_goes_when_the_run_finishes()
    {
        var (env, app) = await StartAsync(new Dictionary<string, string> { ["Kubernetes:FollowRuns"] = "true" });
        await using var _ = env;
        using var __ = app;
        env.Kubernetes.RunsSucceed = false;
        env.GitHub.Install(app.App, Installation, "octo/cred-app", "octo/cred-other");
        var repo = env.GitHub.Repo("octo/cred-app");
        env.GitHub.Repo("octo/cred-other").Commit("main", "README.md", "another repository of the installation");
        var after = repo.Commit("main", ".ci/workflow.yaml", Cloning);
        var delivery = Guid.NewGuid().ToString();

        await env.Service.SendAsync("push", Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after), Installation), delivery);
        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the event");

        Assert.Equal("applied", state["history"]![0]!["outcome"]!.GetValue<string>());
        var asked = Assert.Single(env.GitHub.RestrictedTokenRequests);
        Assert.Equal($"/api/v3/app/installations/{Installation}/access_tokens", asked.Path);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"repositories":["cred-app"],"permissions":{"contents":"read"}}"""), Body(asked)), asked.Body);

        // The Workflow names the Secret by the parameter and the annotation; the Secret holds the token for git.
        var name = RunCredentials.SecretName(delivery);
        var workflow = Assert.Single(env.Kubernetes.Objects, o => o["kind"]!.GetValue<string>() == "Workflow");
        Assert.Equal(name, workflow["metadata"]!["annotations"]!["k8s-webhook-handler.io/git-auth-secret"]!.GetValue<string>());
        Assert.Equal(name, workflow["spec"]!["templates"]![0]!["container"]!["env"]![0]!["valueFrom"]!["secretKeyRef"]!["name"]!.GetValue<string>());
        var secret = Secret(env.Kubernetes)!;
        Assert.Equal((name, "ci", "kubernetes.io/basic-auth"), (secret["metadata"]!["name"]!.GetValue<string>(), secret["metadata"]!["namespace"]!.GetValue<string>(), secret["type"]!.GetValue<string>()));
        Assert.Equal([".git-credentials", "password", "username"], secret["data"]!.AsObject().Select(kv => kv.Key));
        var token = Data(secret, "password");
        Assert.Equal("x-access-token", Data(secret, "username"));
        Assert.StartsWith("ghs_", token, StringComparison.Ordinal);
        Assert.Equal($"http://x-access-token:{token}@{env.GitHub.BaseAddress.Authority}\n", Data(secret, ".git-credentials"));
        Assert.Equal(delivery, secret["metadata"]!["labels"]!["k8s-webhook-handler.io/delivery"]!.GetValue<string>());
        Assert.Equal((delivery, repo.FullName), (secret["metadata"]!["annotations"]!["k8s-webhook-handler.io/delivery"]!.GetValue<string>(),
            secret["metadata"]!["annotations"]!["k8s-webhook-handler.io/repo_name"]!.GetValue<string>()));
        var owner = Assert.Single(secret["metadata"]!["ownerReferences"]!.AsArray())!;
        Assert.True(JsonNode.DeepEquals(new JsonObject
        {
            ["apiVersion"] = "argoproj.io/v1alpha1",
            ["kind"] = "Workflow",
            ["name"] = workflow["metadata"]!["name"]!.DeepClone(),
            ["uid"] = workflow["metadata"]!["uid"]!.DeepClone(),
        }, owner), owner.ToJsonString());

        // Created before the Workflow, whose pods need it; owned once the Workflow exists.
        var writes = env.Kubernetes.Applied.Select(r => (r.Method, r.Path)).ToList();
        Assert.Equal([("POST", "/api/v1/namespaces/ci/secrets"), ("POST", "/apis/argoproj.io/v1alpha1/namespaces/ci/workflows"), ("PATCH", $"/api/v1/namespaces/ci/secrets/{name}")], writes);

        // The token reads its repository and does nothing else.
        Assert.Equal(200, await AskAsync(env.GitHub, token, HttpMethod.Get, $"repos/{repo.FullName}/contents/.ci/workflow.yaml?ref={after}"));
        Assert.Equal(404, await AskAsync(env.GitHub, token, HttpMethod.Get, "repos/octo/cred-other/contents/README.md"));
        Assert.Equal(403, await AskAsync(env.GitHub, token, HttpMethod.Post, $"repos/{repo.FullName}/check-runs", $$"""{"name":"forged","head_sha":"{{after}}"}"""));
        Assert.Equal(403, await AskAsync(env.GitHub, token, HttpMethod.Post, $"repos/{repo.FullName}/statuses/{after}", """{"state":"success"}"""));

        // The controller finishes the run: the service deletes the Secret.
        env.Kubernetes.WriteStatus("argoproj.io/v1alpha1", "Workflow", "ci", workflow["metadata"]!["name"]!.GetValue<string>(), new JsonObject { ["phase"] = "Succeeded" });
        await Eventually.Until(() => Secret(env.Kubernetes) is null, TimeSpan.FromSeconds(20), "the Secret deleted after the run");
        var finished = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => s["history"]![0]!["run"]?["finishedAt"] is not null, "the run finished");
        Assert.Equal("success", finished["history"]![0]!["run"]!["result"]!.GetValue<string>());
        Assert.Single(env.Kubernetes.Requests, r => r.Method == "DELETE" && r.Path == $"/api/v1/namespaces/ci/secrets/{name}" && r.Status == 200);
    }

    [Fact]
    public async Task In_pipeline_mode_the_pipelines_an_event_applies_share_one_secret_and_an_event_that_applies_none_gets_none()
    {
        var (env, app) = await StartAsync(new Dictionary<string, string> { [TriggerHost.PipelineMode] = "true" });
        await using var _ = env;
        using var __ = app;
        env.GitHub.Install(app.App, Installation, "octo/cred-pipelines");
        var repo = env.GitHub.Repo("octo/cred-pipelines");
        string OnPath(string glob) => Cloning.Replace("  generateName: ci-\n", $"  generateName: ci-\n  annotations:\n    k8s-webhook-handler.io/on-path-change: \"{glob}\"\n", StringComparison.Ordinal);
        var files = new Dictionary<string, string> { [".ci/build.yaml"] = OnPath("src/**"), [".ci/docs.yaml"] = OnPath("docs/**"), [".ci/test.yaml"] = OnPath("src/**") };
        async Task<string> PushAsync(string before, string changed)
        {
            var after = repo.CommitFiles("main", files);
            var push = JsonNode.Parse(Payloads.Push(repo.FullName, "refs/heads/main", before, after))!.AsObject();
            push["commits"] = new JsonArray(new JsonObject { ["id"] = after, ["added"] = new JsonArray(), ["removed"] = new JsonArray(), ["modified"] = new JsonArray(changed) });
            var delivery = Guid.NewGuid().ToString();
            await env.Service.SendAsync("push", Payloads.Installed(push.ToJsonString(), Installation), delivery);
            return delivery;
        }

        var code = await PushAsync(Payloads.Sha(1), "src/main.go");
        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the push changing code");

        var name = RunCredentials.SecretName(code);
        var workflows = env.Kubernetes.CreationsOf("Workflow");
        Assert.Equal(["build", "test"], workflows.Select(w => w["metadata"]!["annotations"]!["k8s-webhook-handler.io/pipeline"]!.GetValue<string>()));
        Assert.All(workflows, w => Assert.Equal(name, w["metadata"]!["annotations"]!["k8s-webhook-handler.io/git-auth-secret"]!.GetValue<string>()));
        Assert.All(workflows, w => Assert.Equal(name, w["spec"]!["templates"]![0]!["container"]!["env"]![0]!["valueFrom"]!["secretKeyRef"]!["name"]!.GetValue<string>()));
        Assert.Single(env.GitHub.RestrictedTokenRequests);
        Assert.Equal(name, Assert.Single(env.Kubernetes.CreationsOf("Secret"))["metadata"]!["name"]!.GetValue<string>());
        var owner = Assert.Single(env.Kubernetes.Requests, r => r.Method == "PATCH" && r.Path == $"/api/v1/namespaces/ci/secrets/{name}").Json;
        Assert.Equal(workflows[0]["metadata"]!["uid"]!.GetValue<string>(), owner["metadata"]!["ownerReferences"]![0]!["uid"]!.GetValue<string>());

        // Nothing of this push matches: no pipeline applies, so no token is minted and no Secret made.
        await PushAsync(repo.Branches["main"], "README.md");
        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 2, "the push changing only the README");
        Assert.Single(env.GitHub.RestrictedTokenRequests);
        Assert.Single(env.Kubernetes.CreationsOf("Secret"));
    }

    [Fact]
    public async Task A_pull_request_from_a_fork_gets_only_a_token_that_reads_the_base_repository()
    {
        var (env, app) = await StartAsync(new Dictionary<string, string> { ["Handler:Events"] = "pull_request" });
        await using var _ = env;
        using var __ = app;
        var repo = env.GitHub.Repo("octo/cred-base");
        var fork = env.GitHub.Repo("forker/cred-fork");
        env.GitHub.Install(app.App, Installation, repo.FullName);

        // The App is installed on the fork too, by its owner: still no token of the fork, nor one that writes.
        env.GitHub.Install(app.App, Installation + 1, fork.FullName);
        var baseSha = repo.Commit("main", ".ci/workflow.yaml", Cloning);
        var head = fork.Commit("feature", "README.md", "the fork's change");
        repo.Commits.Add(head);
        var delivery = Guid.NewGuid().ToString();

        using var response = await env.Service.SendAsync("pull_request",
            Payloads.Installed(Payloads.PullRequest(repo.FullName, 5, "opened", head, baseSha, "MEMBER", fork.FullName), Installation), delivery);
        var state = await env.WaitForAsync(repo.FullName, "refs/pull/5/head", s => IsolatedService.Finished(s) == 1, "the pull request's event");

        Assert.Equal("applied", state["history"]![0]!["outcome"]!.GetValue<string>());
        var asked = Assert.Single(env.GitHub.RestrictedTokenRequests);
        Assert.Equal($"/api/v3/app/installations/{Installation}/access_tokens", asked.Path);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"repositories":["cred-base"],"permissions":{"contents":"read"}}"""), Body(asked)), asked.Body);
        Assert.DoesNotContain(env.GitHub.TokenRequests, r => r.Path.Contains($"/installations/{Installation + 1}/", StringComparison.Ordinal));
        var token = Data(Secret(env.Kubernetes)!, "password");
        Assert.Equal(200, await AskAsync(env.GitHub, token, HttpMethod.Get, $"repos/{repo.FullName}/contents/.ci/workflow.yaml?ref={baseSha}"));
        Assert.Equal(404, await AskAsync(env.GitHub, token, HttpMethod.Get, $"repos/{fork.FullName}/contents/README.md?ref={head}"));
        Assert.Equal(403, await AskAsync(env.GitHub, token, HttpMethod.Post, $"repos/{repo.FullName}/statuses/{head}", """{"state":"success"}"""));
    }

    [Fact]
    public async Task An_event_that_starts_no_run_has_its_secret_deleted_at_once()
    {
        var (env, app) = await StartAsync(new Dictionary<string, string> { ["Kubernetes:FollowRuns"] = "true" });
        await using var _ = env;
        using var __ = app;
        env.GitHub.Install(app.App, Installation, "octo/cred-norun");
        var repo = env.GitHub.Repo("octo/cred-norun");
        var after = repo.Commit("main", ".ci/workflow.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              generateName: settings-
            data:
              secret: "{{ git_auth_secret }}"
            """);
        var delivery = Guid.NewGuid().ToString();

        await env.Service.SendAsync("push", Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after), Installation), delivery);
        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the event");
        await Eventually.Until(() => Secret(env.Kubernetes) is null, TimeSpan.FromSeconds(20), "the Secret deleted");

        var name = RunCredentials.SecretName(delivery);
        Assert.Equal(name, Assert.Single(env.Kubernetes.CreationsOf("Secret"))["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal(name, Assert.Single(env.Kubernetes.CreationsOf("ConfigMap"))["data"]!["secret"]!.GetValue<string>());
        Assert.DoesNotContain(env.Kubernetes.Requests, r => r.Method == "PATCH" && r.Path.Contains("/secrets/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_retried_attempt_refreshes_the_same_secret_and_an_event_that_fails_for_good_deletes_it()
    {
        var (env, app) = await StartAsync();
        await using var _ = env;
        using var __ = app;
        env.GitHub.Install(app.App, Installation, "octo/cred-retry");
        var repo = env.GitHub.Repo("octo/cred-retry");
        var after = repo.Commit("main", ".ci/workflow.yaml", Cloning);
        var delivery = Guid.NewGuid().ToString();
        env.Kubernetes.FailOnce(r => r.Method == "POST" && r.Path.EndsWith("/workflows", StringComparison.Ordinal));

        await env.Service.SendAsync("push", Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after), Installation), delivery);
        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the event");

        var entry = state["history"]![0]!;
        Assert.Equal(("applied", 2), (entry["outcome"]!.GetValue<string>(), entry["attempts"]!.AsArray().Count));
        var created = Assert.Single(env.Kubernetes.CreationsOf("Secret"));
        Assert.Equal(RunCredentials.SecretName(delivery), created["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal(2, env.GitHub.RestrictedTokenRequests.Count);
        Assert.Equal([201, 409], env.Kubernetes.Requests.Where(r => r.Method == "POST" && r.Path.EndsWith("/secrets", StringComparison.Ordinal)).Select(r => r.Status));

        // The second attempt's token replaced the first's; the Secret is owned by the one Workflow.
        var secret = Secret(env.Kubernetes)!;
        var tokens = env.GitHub.RestrictedTokenRequests.Select(r => r.Status).ToList();
        Assert.All(tokens, status => Assert.Equal(201, status));
        Assert.NotEqual(Data(created, "password"), Data(secret, "password"));
        Assert.Equal(200, await AskAsync(env.GitHub, Data(secret, "password"), HttpMethod.Get, $"repos/{repo.FullName}/contents/.ci/workflow.yaml?ref={after}"));
        var workflow = Assert.Single(env.Kubernetes.CreationsOf("Workflow"));
        Assert.Equal(workflow["metadata"]!["uid"]!.GetValue<string>(), secret["metadata"]!["ownerReferences"]![0]!["uid"]!.GetValue<string>());

        // A manifest the server refuses for good: nothing runs, and the Secret made for it goes.
        var refused = repo.Commit("main", ".ci/workflow.yaml", "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: ci-\n  annotations:\n    secret: \"{{ git_auth_secret }}\"\n");
        var failing = Guid.NewGuid().ToString();
        await env.Service.SendAsync("push", Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/main", after, refused), Installation), failing);
        var failed = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 2, "the refused event");

        Assert.Equal("failed", failed["history"]![0]!["outcome"]!.GetValue<string>());
        Assert.Contains("spec: Required value", failed["history"]![0]!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        await Eventually.Until(() => !env.Kubernetes.Objects.Any(o => o["metadata"]!["name"]!.GetValue<string>() == RunCredentials.SecretName(failing)),
            TimeSpan.FromSeconds(20), "the refused event's Secret deleted");
        Assert.Equal(2, env.Kubernetes.CreationsOf("Secret").Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Without_run_credentials_or_in_token_mode_no_token_is_minted_and_the_parameter_stays(bool app)
    {
        AppIdentity? identity = null;
        await using var env = await IsolatedService.StartAsync(github => app
            ? (identity = AppIdentity.Register(github)).Settings(new Dictionary<string, string> { ["Handler:RunCredentials"] = "false" })
            : new Dictionary<string, string>());
        using var _ = identity;
        if (identity is not null)
        {
            env.GitHub.Install(identity.App, Installation, "octo/cred-off");
        }

        var repo = env.GitHub.Repo("octo/cred-off");
        var after = repo.Commit("main", ".ci/workflow.yaml", Cloning);

        await env.Service.SendAsync("push", Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after), Installation));
        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the event");

        Assert.Equal("applied", state["history"]![0]!["outcome"]!.GetValue<string>());
        Assert.Empty(env.GitHub.RestrictedTokenRequests);
        Assert.Empty(env.Kubernetes.CreationsOf("Secret"));
        var workflow = Assert.Single(env.Kubernetes.CreationsOf("Workflow"));
        Assert.Equal("{{ git_auth_secret }}", workflow["spec"]!["templates"]![0]!["container"]!["env"]![0]!["valueFrom"]!["secretKeyRef"]!["name"]!.GetValue<string>());
        Assert.Null(workflow["metadata"]!["annotations"]!["k8s-webhook-handler.io/git-auth-secret"]);
    }
}

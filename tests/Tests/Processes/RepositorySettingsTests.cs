using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;
using static CiTrigger.Tests.Processes.FollowingEnv;

namespace CiTrigger.Tests.Processes;

/// <summary>
/// What a Repository resource changes for its repository's events, over real HTTP against the fake cluster (which
/// serves the CRD) and the fake GitHub: Handler:RequireRepository, trustedAssociations, cancelSuperseded and
/// pipelineDirectory, each against the global option it replaces.
/// </summary>
public sealed class RepositorySettingsTests
{
    [Fact]
    public async Task With_require_repository_only_a_repository_that_has_one_is_handled_and_deleting_it_stops_that()
    {
        await using var env = await StartAsync("octo/required");
        env.Kubernetes.ServeRepositories();
        await using var service = await env.ServiceAsync(new Dictionary<string, string> { ["Handler:RequireRepository"] = "true" });
        await SyncedAsync(service.Client);

        var (status, answer, _) = await PushAsync(service.Client, env.Repo, 1);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ignored", answer["status"]!.GetValue<string>());
        Assert.StartsWith("no Repository: octo/required has no usable Repository resource", answer["reason"]!.GetValue<string>(), StringComparison.Ordinal);

        // An unusable one is no Repository either.
        env.Kubernetes.PutRepository("required", new JsonObject { ["repository"] = env.Repo.FullName, ["namespace"] = "nowhere" });
        await Eventually.UntilAsync(async () => (await service.Client.GetFromJsonAsync<JsonObject>("/admin/repositories"))!["repositories"]!.AsArray().Count == 1,
            TimeSpan.FromSeconds(20), "the unusable Repository was read");
        Assert.Equal("ignored", (await PushAsync(service.Client, env.Repo, 2)).Answer["status"]!.GetValue<string>());
        Assert.Equal("InvalidSpec", env.Kubernetes.Repository("required")!["status"]!["conditions"]![0]!["reason"]!.GetValue<string>());

        env.Kubernetes.PutRepository("required", new JsonObject { ["repository"] = env.Repo.FullName });
        await ReadyAsync(service.Client, true);
        (status, answer, _) = await PushAsync(service.Client, env.Repo, 3);
        Assert.Equal((HttpStatusCode.Accepted, "queued"), (status, answer["status"]!.GetValue<string>()));
        await Eventually.Until(() => env.Kubernetes.CreationsOf("Workflow").Count == 1, TimeSpan.FromSeconds(20), "the handled push's Workflow");

        env.Kubernetes.DeleteRepository("required");
        await ReadyAsync(service.Client, false);
        Assert.Equal("ignored", (await PushAsync(service.Client, env.Repo, 4)).Answer["status"]!.GetValue<string>());
        Assert.Single(env.Kubernetes.CreationsOf("Workflow"));
    }

    [Fact]
    public async Task A_repositorys_trusted_associations_replace_the_global_ones_for_its_pull_requests()
    {
        await using var env = await StartAsync("octo/strict");
        env.Kubernetes.ServeRepositories();
        await using var service = await env.ServiceAsync(new Dictionary<string, string> { ["Handler:Events"] = "push,pull_request" });
        await SyncedAsync(service.Client);

        // Globally a MEMBER is trusted; the repository trusts only its OWNER.
        var trusted = await PullRequestAsync(service.Client, env.Repo, 12, "MEMBER");
        await CheckAsync(env.GitHub, trusted, "in_progress");

        env.Kubernetes.PutRepository("strict", new JsonObject { ["repository"] = env.Repo.FullName, ["trustedAssociations"] = new JsonArray("OWNER") });
        await ReadyAsync(service.Client, true);
        var held = await PullRequestAsync(service.Client, env.Repo, 13, "MEMBER");
        Assert.Equal("action_required", (await CheckAsync(env.GitHub, held, "completed")).Conclusion);
        var owner = await PullRequestAsync(service.Client, env.Repo, 14, "OWNER");
        await CheckAsync(env.GitHub, owner, "in_progress");
        Assert.Equal(2, env.Kubernetes.CreationsOf("Workflow").Count);
    }

    [Fact]
    public async Task A_repositorys_cancel_superseded_stops_its_earlier_run_where_the_global_option_does_not()
    {
        await using var env = await StartAsync("octo/superseding");
        env.Kubernetes.ServeRepositories();
        env.Kubernetes.PutRepository("superseding", new JsonObject { ["repository"] = env.Repo.FullName, ["cancelSuperseded"] = true });
        await using var service = await env.ServiceAsync(new Dictionary<string, string> { ["Handler:CancelSuperseded"] = "false" });
        await ReadyAsync(service.Client, true);

        var first = (await PushAsync(service.Client, env.Repo, 1)).Delivery;
        await CheckAsync(env.GitHub, first, "in_progress");
        await PushAsync(service.Client, env.Repo, 2);

        Assert.Equal("cancelled", (await CheckAsync(env.GitHub, first, "completed")).Conclusion);
        var name = NameOf(env.Kubernetes.CreationsOf("Workflow")[0]);
        await Eventually.Until(() => env.Kubernetes.Objects.Any(o => o["metadata"]!["name"]!.GetValue<string>() == name
            && o["spec"]?["shutdown"]?.GetValue<string>() == "Terminate"), TimeSpan.FromSeconds(20), "the first workflow told to terminate");
    }

    [Fact]
    public async Task In_pipeline_mode_a_repositorys_pipeline_directory_is_where_its_pipelines_are_read()
    {
        await using var env = await StartAsync("octo/elsewhere");
        env.Kubernetes.ServeRepositories();
        env.Kubernetes.PutRepository("elsewhere", new JsonObject { ["repository"] = env.Repo.FullName, ["pipelineDirectory"] = "build/pipelines" });
        var settings = env.SettingsWith(new Dictionary<string, string> { ["Test:PipelineMode"] = "true" });
        await using var service = await TriggerHost.StartAsync(env.GitHub, env.Kubernetes, settings);
        await ReadyAsync(service.Client, true);

        env.Repo.Commit("main", ".ci/ignored.yaml", SampleManifest.Workflow);
        var after = env.Repo.Commit("main", "build/pipelines/unit.yaml", SampleManifest.Workflow);
        var delivery = Guid.NewGuid().ToString();
        var body = Payloads.Installed(Payloads.Push(env.Repo.FullName, "refs/heads/main", Payloads.Sha(1), after), Installation);
        using var answer = await service.Client.SendAsync(TriggerHost.Webhook("push", Encoding.UTF8.GetBytes(body), "application/json", delivery));
        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);

        var check = await Eventually.Until(() => Task.FromResult(env.GitHub.CheckRuns.FirstOrDefault(r => r.ExternalId == $"{delivery}/unit")),
            TimeSpan.FromSeconds(30), "the check of the pipeline unit");
        Assert.Equal("ci/trigger/unit", check.Name);
        Assert.DoesNotContain(env.GitHub.CheckRuns, r => r.ExternalId == $"{delivery}/ignored");
        Assert.Equal("unit", Assert.Single(env.Kubernetes.CreationsOf("Workflow"))["metadata"]!["annotations"]!["k8s-webhook-handler.io/pipeline"]!.GetValue<string>());
    }

    private static Task SyncedAsync(HttpClient client) =>
        Eventually.UntilAsync(async () => (await client.GetFromJsonAsync<JsonObject>("/admin/repositories"))!["synced"]!.GetValue<bool>(),
            TimeSpan.FromSeconds(20), "the Repository objects were listed");

    /// <summary>Waits until the service has a usable Repository (or, with <paramref name="ready"/> false, none).</summary>
    private static Task ReadyAsync(HttpClient client, bool ready) =>
        Eventually.UntilAsync(async () => (await client.GetFromJsonAsync<JsonObject>("/admin/repositories"))!["repositories"]!.AsArray()
            .Any(r => r!["ready"]!.GetValue<bool>()) == ready, TimeSpan.FromSeconds(20), ready ? "the Repository was read" : "no usable Repository");

    private static async Task<(HttpStatusCode Status, JsonObject Answer, string Delivery)> PushAsync(HttpClient client, FakeGitHubApi.Repository repo, int n)
    {
        var before = repo.Branches.TryGetValue("main", out var head) ? head : Payloads.Sha(n);
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow + $"\n# {n}\n");
        var delivery = Guid.NewGuid().ToString();
        var body = Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/main", before, after), Installation);
        using var answer = await client.SendAsync(TriggerHost.Webhook("push", Encoding.UTF8.GetBytes(body), "application/json", delivery));
        return (answer.StatusCode, (await answer.Content.ReadFromJsonAsync<JsonObject>())!, delivery);
    }

    private static async Task<string> PullRequestAsync(HttpClient client, FakeGitHubApi.Repository repo, int number, string association)
    {
        var head = repo.Commit($"pr-{number}", ".ci/workflow.yaml", SampleManifest.Workflow + $"\n# pr {number}\n");
        var delivery = Guid.NewGuid().ToString();
        var body = Payloads.Installed(Payloads.PullRequest(repo.FullName, number, "opened", head, Payloads.Sha(1), association), Installation);
        using var answer = await client.SendAsync(TriggerHost.Webhook("pull_request", Encoding.UTF8.GetBytes(body), "application/json", delivery));
        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        return delivery;
    }
}

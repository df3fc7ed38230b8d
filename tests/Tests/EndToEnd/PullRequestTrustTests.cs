using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.EndToEnd;

/// <summary>
/// Who may make a pull request's new head run, end to end in App mode with its check runs: a fork's head moved by
/// someone other than its trusted author, and the approval label, count only on the word of a user GitHub says
/// has write access (<c>GET /repos/{owner}/{repo}/collaborators/{username}/permission</c>).
/// </summary>
public class PullRequestTrustTests(AppModePullRequests fixture) : IClassFixture<AppModePullRequests>
{
    private IsolatedService Env => fixture.Env;

    [Fact]
    public async Task A_members_fork_pull_request_moved_by_a_user_without_write_access_waits_and_moved_by_a_writer_runs()
    {
        var (repo, fork, baseSha, head) = fixture.NewForkPullRequest();
        var opened = await SendAsync(repo, 21, "opened", head, baseSha, "MEMBER", fork);
        Assert.Equal("success", (await CheckAsync(opened)).Conclusion);

        var second = AppModePullRequests.NewHead(repo, fork);
        var byOutsider = await SendAsync(repo, 21, "synchronize", second, baseSha, "MEMBER", fork, before: head, sender: "fork-owner");
        var held = (await CheckAsync(byOutsider)).Conclusion;
        var waiting = await WaitingAsync(repo, 21);

        Assert.Equal("action_required", held);
        var queued = waiting["queue"]![0]!;
        Assert.Equal((second, "fork-owner"), (queued["event"]!["revision"]!.GetValue<string>(), queued["event"]!["sender"]!.GetValue<string>()));
        Assert.Equal($"waiting for approval: no write access to {repo.FullName} (fork-owner has permission 'none')", queued["attempts"]![0]!["error"]!.GetValue<string>());
        Assert.Contains(Env.GitHub.PermissionRequests, r => r.Path == $"/api/v3/repos/{repo.FullName}/collaborators/fork-owner/permission" && r.Status == 404);
        Assert.Single(Creations(repo));

        repo.Collaborators["fork-owner"] = "write";
        var third = AppModePullRequests.NewHead(repo, fork);
        var byWriter = await SendAsync(repo, 21, "synchronize", third, baseSha, "MEMBER", fork, before: second, sender: "fork-owner");
        var ran = await CheckAsync(byWriter);
        var done = await Env.WaitForAsync(repo.FullName, Key(21), s => IsolatedService.Finished(s) == 3 && IsolatedService.Queued(s) == 0, "three events finished");

        Assert.Equal("success", ran.Conclusion);
        Assert.Equal([("applied", third), ("skipped", second), ("applied", head)],
            done["history"]!.AsArray().Select(h => (h!["outcome"]!.GetValue<string>(), h["event"]!["revision"]!.GetValue<string>())));
        Assert.Equal(2, Creations(repo).Count);
    }

    [Fact]
    public async Task The_approval_label_approves_nothing_when_its_author_has_only_triage_access_and_runs_the_head_when_a_writer_adds_it()
    {
        var (repo, fork, baseSha, head) = fixture.NewForkPullRequest();
        repo.Collaborators["triager"] = "triage";
        repo.Collaborators["maintainer"] = "maintain";
        var opened = await SendAsync(repo, 22, "opened", head, baseSha, "NONE", fork);
        Assert.Equal("action_required", (await CheckAsync(opened)).Conclusion);

        await SendAsync(repo, 22, "labeled", head, baseSha, "NONE", fork, labels: ["ok-to-test"], label: "ok-to-test", sender: "triager");
        await Eventually.Until(() => Env.GitHub.CheckRuns.Count(r => r.ExternalId == opened) == 2, TimeSpan.FromSeconds(20), "the label's check run");
        var notApproved = (await CheckAsync(opened)).Conclusion;
        var second = AppModePullRequests.NewHead(repo, fork);
        var moved = await SendAsync(repo, 22, "synchronize", second, baseSha, "NONE", fork, before: head, labels: ["ok-to-test"]);
        var stillHeld = (await CheckAsync(moved)).Conclusion;
        await WaitingAsync(repo, 22);

        Assert.Equal(("action_required", "action_required"), (notApproved, stillHeld));
        Assert.Equal(2, Env.GitHub.PermissionRequests.Count(r => r.Path.EndsWith($"/repos/{repo.FullName}/collaborators/triager/permission", StringComparison.Ordinal)));
        Assert.Empty(Creations(repo));

        await SendAsync(repo, 22, "unlabeled", second, baseSha, "NONE", fork, labels: [], label: "ok-to-test", sender: "triager");
        await SendAsync(repo, 22, "labeled", second, baseSha, "NONE", fork, labels: ["ok-to-test"], label: "ok-to-test", sender: "maintainer");
        await Eventually.Until(() => Env.GitHub.CheckRuns.Count(r => r.ExternalId == moved) == 2, TimeSpan.FromSeconds(20), "the writer's label's check run");
        var approved = await CheckAsync(moved);

        Assert.Equal("success", approved.Conclusion);
        Assert.Equal(second, Assert.Single(Creations(repo))["metadata"]!["annotations"]!["k8s-webhook-handler.io/revision"]!.GetValue<string>());
    }

    [Fact]
    public async Task While_a_writers_approval_label_stays_later_heads_run_and_once_it_is_removed_they_wait()
    {
        var (repo, fork, baseSha, head) = fixture.NewForkPullRequest();
        repo.Collaborators["maintainer"] = "write";
        await SendAsync(repo, 23, "opened", head, baseSha, "FIRST_TIME_CONTRIBUTOR", fork);
        await WaitingAsync(repo, 23);
        await SendAsync(repo, 23, "labeled", head, baseSha, "FIRST_TIME_CONTRIBUTOR", fork, labels: ["ok-to-test"], label: "ok-to-test", sender: "maintainer");
        await Env.WaitForAsync(repo.FullName, Key(23), s => IsolatedService.Finished(s) == 1 && IsolatedService.Queued(s) == 0, "the labelled head run");

        var second = AppModePullRequests.NewHead(repo, fork);
        var labelled = await SendAsync(repo, 23, "synchronize", second, baseSha, "FIRST_TIME_CONTRIBUTOR", fork, before: head, labels: ["ok-to-test"]);
        var ran = await CheckAsync(labelled);
        await SendAsync(repo, 23, "unlabeled", second, baseSha, "FIRST_TIME_CONTRIBUTOR", fork, labels: [], label: "ok-to-test", sender: "maintainer");
        var third = AppModePullRequests.NewHead(repo, fork);
        var unlabelled = await SendAsync(repo, 23, "synchronize", third, baseSha, "FIRST_TIME_CONTRIBUTOR", fork, before: second);
        var held = await CheckAsync(unlabelled);

        Assert.Equal(("success", "action_required"), (ran.Conclusion, held.Conclusion));
        Assert.Equal([head, second], Creations(repo).Select(c => c["metadata"]!["annotations"]!["k8s-webhook-handler.io/revision"]!.GetValue<string>()));
        Assert.Equal(third, (await WaitingAsync(repo, 23))["queue"]![0]!["event"]!["revision"]!.GetValue<string>());
    }

    private static string Key(int number) => $"refs/pull/{number}/head";

    private List<JsonObject> Creations(FakeGitHubApi.Repository repo) =>
        [.. Env.Kubernetes.CreationsOf("Workflow").Where(c => c["metadata"]!["annotations"]!["k8s-webhook-handler.io/repo_name"]!.GetValue<string>() == repo.FullName)];

    /// <summary>Sends a pull request event of the App's installation and returns its delivery id once it was accepted.</summary>
    private async Task<string> SendAsync(
        FakeGitHubApi.Repository repo, int number, string action, string head, string baseSha, string association, FakeGitHubApi.Repository fork,
        string? before = null, string[]? labels = null, string? label = null, string? sender = null)
    {
        var delivery = Guid.NewGuid().ToString();
        var body = Payloads.PullRequest(repo.FullName, number, action, head, baseSha, association, fork.FullName, before, labels, label: label, sender: sender);
        using var response = await Env.Service.SendAsync("pull_request", Payloads.Installed(body, AppModePullRequests.Installation), delivery);
        var answer = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{action}: {(int)response.StatusCode} {answer.ToJsonString()}");
        return delivery;
    }

    /// <summary>The delivery's newest check run once it is completed (a later event may still change it: read it at once).</summary>
    private Task<FakeGitHubApi.CheckRun> CheckAsync(string delivery) =>
        Eventually.Until(() => Task.FromResult(Env.GitHub.CheckRuns.LastOrDefault(r => r.ExternalId == delivery) is { Status: "completed" } run ? run : null),
            TimeSpan.FromSeconds(20), $"the check run of {delivery} completed");

    /// <summary>Waits until the pull request's ref holds an event waiting for approval, with nothing in flight.</summary>
    private Task<JsonObject> WaitingAsync(FakeGitHubApi.Repository repo, int number) =>
        Env.WaitForAsync(repo.FullName, Key(number),
            s => s["queue"]!.AsArray().Any(q => q!["awaitingApproval"]!.GetValue<bool>()) && s["inFlight"] is null,
            $"an event waiting for approval on {repo.FullName} {Key(number)}");
}

/// <summary>One service in App mode, reporting check runs, for pull request tests that use repositories of their own.</summary>
public sealed class AppModePullRequests : IAsyncLifetime
{
    public const long Installation = 61;

    private AppIdentity? app;

    public IsolatedService Env { get; private set; } = null!;

    public async ValueTask InitializeAsync() =>
        Env = await IsolatedService.StartAsync(github => (app = AppIdentity.Register(github)).Settings(new Dictionary<string, string>
        {
            ["GitHub:ReportStatus"] = "true",
            ["GitHub:StatusContext"] = "ci/trigger",
            ["Handler:Events"] = "pull_request,issue_comment",
        }));

    /// <summary>A repository the App is installed on, with a manifest on main, and a fork holding a pull request's first head.</summary>
    public (FakeGitHubApi.Repository Repo, FakeGitHubApi.Repository Fork, string BaseSha, string Head) NewForkPullRequest()
    {
        var repo = Env.GitHub.Repo($"octo/{Guid.NewGuid():N}"[..30]);
        var fork = Env.GitHub.Repo($"forker/{Guid.NewGuid():N}"[..30]);
        Env.GitHub.Install(app!.App, Installation, repo.FullName);
        var baseSha = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        return (repo, fork, baseSha, NewHead(repo, fork));
    }

    /// <summary>A new commit on the fork's branch, which GitHub keeps in the base repository too (refs/pull/N/head): its checks live there.</summary>
    public static string NewHead(FakeGitHubApi.Repository repo, FakeGitHubApi.Repository fork)
    {
        var head = fork.Commit("feature", "README.md", Guid.NewGuid().ToString());
        repo.Commits.Add(head);
        return head;
    }

    public async ValueTask DisposeAsync()
    {
        await Env.DisposeAsync();
        app?.Dispose();
    }
}

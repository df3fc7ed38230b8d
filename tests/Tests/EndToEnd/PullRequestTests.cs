using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.EndToEnd;

/// <summary>
/// Pull requests over real HTTP, from payloads adapted from GitHub's own <c>pull_request</c> and
/// <c>issue_comment</c> examples: which manifest is read (never the fork's), who may make a build run,
/// and what approvals, re-tests and closing do.
/// </summary>
[Collection(SharedService.Name)]
public class PullRequestTests(ServiceFixture fixture)
{
    private const string ForkManifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: stolen-\ndata:\n  secret: exfiltrate\n";

    private static readonly string[] AnnotationNames =
        ["ref", "revision", "before", "event_type", "event_action", "pull_request", "base_ref", "head_repo_url", "merged"];

    private TriggerHost Service => fixture.Service;

    private static string Key(int number) => $"refs/pull/{number}/head";

    [Fact]
    public async Task A_members_pull_request_runs_at_once_at_its_head_under_its_pull_ref_with_the_pull_request_annotations()
    {
        var repo = fixture.NewRepo();
        var baseSha = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var head = repo.Commit("feature", ".ci/workflow.yaml", SampleManifest.Workflow);

        var answer = await Json(await Service.SendAsync("pull_request", Payloads.PullRequest(repo.FullName, 7, "opened", head, baseSha, "MEMBER")));
        var state = await fixture.Finished(repo.FullName, Key(7));

        Assert.Equal(($"{repo.FullName}:{Key(7)}", "queued"), (answer["key"]!.GetValue<string>(), answer["status"]!.GetValue<string>()));
        Assert.Equal("applied", state["history"]![0]!["outcome"]!.GetValue<string>());
        Assert.Equal(head, Assert.Single(ContentRequests(repo.FullName)).Ref);
        var annotations = Assert.Single(fixture.AppliedFor(repo.FullName)).Json["metadata"]!["annotations"]!;
        Assert.Equal(
            [Key(7), head, "", "pull_request", "opened", "7", "refs/heads/main", $"https://github.com/{repo.FullName}.git", ""],
            AnnotationNames.Select(k => annotations["k8s-webhook-handler.io/" + k]!.GetValue<string>()));
        Assert.Equal("platform", annotations["team"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_outsiders_pull_request_from_a_fork_waits_applies_nothing_and_never_reads_the_fork()
    {
        var (repo, fork, baseSha, head) = ForkSetup();

        await Send("pull_request", Payloads.PullRequest(repo.FullName, 3, "opened", head, baseSha, "CONTRIBUTOR", fork.FullName), HttpStatusCode.Accepted);
        var state = await Waiting(repo.FullName, 3);

        Assert.True(state["queue"]![0]!["awaitingApproval"]!.GetValue<bool>());
        Assert.Empty(state["history"]!.AsArray());
        Assert.Equal("waiting", (await Summary(repo.FullName, 3))["state"]!.GetValue<string>());
        Assert.Equal("waiting", (await Delivery(state["queue"]![0]!["event"]!["delivery"]!.GetValue<string>()))["status"]!.GetValue<string>());
        Assert.Empty(fixture.AppliedFor(repo.FullName));
        Assert.Empty(ContentRequests(repo.FullName));
        Assert.Empty(RequestsFor(fork.FullName));
    }

    [Fact]
    public async Task Ok_to_test_from_an_outsider_changes_nothing_and_from_a_member_runs_the_bases_manifest_at_the_base_commit()
    {
        var (repo, fork, baseSha, head) = ForkSetup();
        await Send("pull_request", Payloads.PullRequest(repo.FullName, 4, "opened", head, baseSha, "NONE", fork.FullName), HttpStatusCode.Accepted);
        await Waiting(repo.FullName, 4);

        var outsider = await Send("issue_comment", Payloads.IssueComment(repo.FullName, 4, "/ok-to-test", "CONTRIBUTOR"), HttpStatusCode.OK);
        await Send("issue_comment", Payloads.IssueComment(repo.FullName, 4, "please\n/ok-to-test\n", "OWNER", action: "edited"), HttpStatusCode.OK);
        await Send("issue_comment", Payloads.IssueComment(repo.FullName, 4, "/ok-to-test", "OWNER", onPullRequest: false), HttpStatusCode.OK);
        var stillWaiting = await Waiting(repo.FullName, 4);
        await Send("issue_comment", Payloads.IssueComment(repo.FullName, 4, "Looks safe.\r\n/ok-to-test\r\n", "MEMBER"), HttpStatusCode.Accepted);
        var state = await fixture.Finished(repo.FullName, Key(4));

        Assert.Equal("ignored", outsider["status"]!.GetValue<string>());
        Assert.Single(stillWaiting["queue"]!.AsArray());
        Assert.Equal("applied", state["history"]![0]!["outcome"]!.GetValue<string>());
        Assert.Equal(baseSha, Assert.Single(ContentRequests(repo.FullName)).Ref);
        var annotations = Assert.Single(fixture.AppliedFor(repo.FullName)).Json["metadata"]!["annotations"]!;
        Assert.Equal((head, $"https://github.com/{fork.FullName}.git"), (
            annotations["k8s-webhook-handler.io/revision"]!.GetValue<string>(), annotations["k8s-webhook-handler.io/head_repo_url"]!.GetValue<string>()));
        Assert.Empty(RequestsFor(fork.FullName));
        Assert.DoesNotContain(fixture.Kubernetes.Applied, r => r.Body.Contains("exfiltrate", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_new_push_after_an_approval_waits_again_and_the_approval_releases_only_the_current_head()
    {
        var (repo, fork, baseSha, head) = ForkSetup();
        await Send("pull_request", Payloads.PullRequest(repo.FullName, 5, "opened", head, baseSha, "NONE", fork.FullName), HttpStatusCode.Accepted);
        await Waiting(repo.FullName, 5);
        await Send("issue_comment", Payloads.IssueComment(repo.FullName, 5, "/ok-to-test", "OWNER"), HttpStatusCode.Accepted);
        await fixture.Finished(repo.FullName, Key(5));

        var second = Payloads.Sha(0xb2);
        await Send("pull_request", Payloads.PullRequest(repo.FullName, 5, "synchronize", second, baseSha, "NONE", fork.FullName, before: head), HttpStatusCode.Accepted);
        var state = await Waiting(repo.FullName, 5);
        var third = Payloads.Sha(0xb3);
        await Send("pull_request", Payloads.PullRequest(repo.FullName, 5, "synchronize", third, baseSha, "NONE", fork.FullName, before: second), HttpStatusCode.Accepted);
        var superseded = await Eventually.Until(async () =>
            (await Ref(repo.FullName, 5)) is { } s && s["history"]!.AsArray().Count == 2 && s["queue"]!.AsArray().Count == 1 ? s : null,
            TimeSpan.FromSeconds(20), "the older waiting head superseded");
        await Send("issue_comment", Payloads.IssueComment(repo.FullName, 5, "/ok-to-test", "COLLABORATOR"), HttpStatusCode.Accepted);
        var done = await fixture.Finished(repo.FullName, Key(5), 3);

        Assert.Equal(second, state["queue"]![0]!["event"]!["revision"]!.GetValue<string>());
        Assert.Equal(("skipped", second), (superseded["history"]![0]!["outcome"]!.GetValue<string>(), superseded["history"]![0]!["event"]!["revision"]!.GetValue<string>()));
        Assert.Equal(third, superseded["queue"]![0]!["event"]!["revision"]!.GetValue<string>());
        Assert.Equal([("applied", third), ("skipped", second), ("applied", head)],
            done["history"]!.AsArray().Select(h => (h!["outcome"]!.GetValue<string>(), h["event"]!["revision"]!.GetValue<string>())));
        Assert.Equal(2, fixture.AppliedFor(repo.FullName).Count);
        Assert.Empty(RequestsFor(fork.FullName));
    }

    [Fact]
    public async Task The_approval_label_added_by_a_writer_releases_a_waiting_head_and_lets_every_later_head_run_while_it_is_on()
    {
        var (repo, fork, baseSha, head) = ForkSetup();
        repo.Collaborators["maintainer"] = "write";
        await Send("pull_request", Payloads.PullRequest(repo.FullName, 6, "opened", head, baseSha, "FIRST_TIME_CONTRIBUTOR", fork.FullName), HttpStatusCode.Accepted);
        await Waiting(repo.FullName, 6);

        var other = await Send("pull_request", Payloads.PullRequest(repo.FullName, 6, "labeled", head, baseSha, "FIRST_TIME_CONTRIBUTOR", fork.FullName, labels: ["bug"], label: "bug"), HttpStatusCode.OK);
        await Send("pull_request", Payloads.PullRequest(repo.FullName, 6, "labeled", head, baseSha, "FIRST_TIME_CONTRIBUTOR", fork.FullName, labels: ["bug", "ok-to-test"], label: "ok-to-test", sender: "maintainer"), HttpStatusCode.Accepted);
        await fixture.Finished(repo.FullName, Key(6));
        var next = Payloads.Sha(0xc2);
        await Send("pull_request", Payloads.PullRequest(repo.FullName, 6, "synchronize", next, baseSha, "FIRST_TIME_CONTRIBUTOR", fork.FullName, before: head, labels: ["ok-to-test"]), HttpStatusCode.Accepted);
        var state = await fixture.Finished(repo.FullName, Key(6), 2);

        Assert.Contains("Handler:Actions", other["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal([next, head], state["history"]!.AsArray().Select(h => h!["event"]!["revision"]!.GetValue<string>()));
        Assert.All(state["history"]!.AsArray(), h => Assert.Equal("applied", h!["outcome"]!.GetValue<string>()));
        Assert.All(ContentRequests(repo.FullName), r => Assert.Equal(baseSha, r.Ref));
        Assert.Empty(RequestsFor(fork.FullName));
        var asked = fixture.GitHub.PermissionRequests.Where(r => r.Path.Contains(repo.FullName, StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(asked);
        Assert.All(asked, r => Assert.Equal(($"/api/v3/repos/{repo.FullName}/collaborators/maintainer/permission", 200), (r.Path, r.Status)));
    }

    [Fact]
    public async Task Retest_from_a_trusted_user_runs_the_newest_event_again_under_a_new_delivery_and_from_others_does_nothing()
    {
        var repo = fixture.NewRepo();
        var baseSha = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var head = repo.Commit("feature", ".ci/workflow.yaml", SampleManifest.Workflow);
        var delivery = Guid.NewGuid().ToString();
        await Send("pull_request", Payloads.PullRequest(repo.FullName, 8, "opened", head, baseSha, "OWNER"), HttpStatusCode.Accepted, delivery);
        await fixture.Finished(repo.FullName, Key(8));

        await Send("issue_comment", Payloads.IssueComment(repo.FullName, 8, "/retest", "NONE"), HttpStatusCode.OK);
        var comment = Guid.NewGuid().ToString();
        await Send("issue_comment", Payloads.IssueComment(repo.FullName, 8, "/retest", "MEMBER"), HttpStatusCode.Accepted, comment);
        var state = await fixture.Finished(repo.FullName, Key(8), 2);
        var again = await Json(await Service.SendAsync("issue_comment", Payloads.IssueComment(repo.FullName, 8, "/retest", "MEMBER"), comment));
        await Send("issue_comment", Payloads.IssueComment(repo.FullName, 8, "/retest", "MEMBER"), HttpStatusCode.Accepted);
        var third = await fixture.Finished(repo.FullName, Key(8), 3);

        Assert.Equal([$"{delivery}-retest-1", delivery], state["history"]!.AsArray().Select(h => h!["event"]!["delivery"]!.GetValue<string>()));
        Assert.Equal("duplicate", again["status"]!.GetValue<string>());
        Assert.Equal($"{delivery}-retest-2", third["history"]![0]!["event"]!["delivery"]!.GetValue<string>());
        var applied = fixture.AppliedFor(repo.FullName);
        Assert.Equal(3, applied.Count);
        Assert.Equal([delivery, $"{delivery}-retest-1", $"{delivery}-retest-2"],
            applied.Select(r => r.Json["metadata"]!["annotations"]!["k8s-webhook-handler.io/delivery"]!.GetValue<string>()));
        Assert.All(applied, r => Assert.Equal(head, r.Json["metadata"]!["annotations"]!["k8s-webhook-handler.io/revision"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Closing_a_pull_request_is_a_teardown_event_that_says_whether_it_was_merged(bool merged)
    {
        var repo = fixture.NewRepo();
        var baseSha = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var head = repo.Commit("feature", ".ci/workflow.yaml", SampleManifest.Workflow);
        await Send("pull_request", Payloads.PullRequest(repo.FullName, 9, "opened", head, baseSha, "COLLABORATOR"), HttpStatusCode.Accepted);
        await Send("pull_request", Payloads.PullRequest(repo.FullName, 9, "closed", head, baseSha, "COLLABORATOR", merged: merged), HttpStatusCode.Accepted);
        var state = await fixture.Finished(repo.FullName, Key(9), 2);

        Assert.Equal(["closed", "opened"], state["history"]!.AsArray().Select(h => h!["event"]!["action"]!.GetValue<string>()));
        var closed = fixture.AppliedFor(repo.FullName)[1].Json["metadata"]!["annotations"]!;
        Assert.Equal(("closed", merged ? "true" : "false", Key(9)), (
            closed["k8s-webhook-handler.io/event_action"]!.GetValue<string>(),
            closed["k8s-webhook-handler.io/merged"]!.GetValue<string>(),
            closed["k8s-webhook-handler.io/ref"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_outsiders_closed_pull_request_is_torn_down_with_the_bases_manifest_without_waiting()
    {
        var (repo, fork, baseSha, head) = ForkSetup();
        await Send("pull_request", Payloads.PullRequest(repo.FullName, 10, "opened", head, baseSha, "NONE", fork.FullName), HttpStatusCode.Accepted);
        await Waiting(repo.FullName, 10);
        await Send("pull_request", Payloads.PullRequest(repo.FullName, 10, "closed", head, baseSha, "NONE", headRepo: null), HttpStatusCode.Accepted);
        var state = await fixture.Finished(repo.FullName, Key(10), 2);

        Assert.Equal([("closed", "applied"), ("opened", "skipped")],
            state["history"]!.AsArray().Select(h => (h!["event"]!["action"]!.GetValue<string>(), h["outcome"]!.GetValue<string>())));
        Assert.Equal(baseSha, Assert.Single(ContentRequests(repo.FullName)).Ref);
        Assert.Empty(RequestsFor(fork.FullName));
    }

    [Fact]
    public async Task A_pull_request_event_and_a_push_of_its_branch_arriving_together_are_both_handled_each_under_its_own_key()
    {
        var repo = fixture.NewRepo();
        var baseSha = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var head = repo.Commit("feature", ".ci/workflow.yaml", SampleManifest.Workflow);

        var answers = await Task.WhenAll(
            Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/feature", Payloads.ZeroSha, head)),
            Service.SendAsync("pull_request", Payloads.PullRequest(repo.FullName, 11, "opened", head, baseSha, "MEMBER")));
        var branch = await fixture.Finished(repo.FullName, "refs/heads/feature");
        var pull = await fixture.Finished(repo.FullName, Key(11));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a.StatusCode));
        Assert.Equal(("push", "pull_request"), (branch["history"]![0]!["event"]!["eventType"]!.GetValue<string>(), pull["history"]![0]!["event"]!["eventType"]!.GetValue<string>()));
        Assert.Equal(2, fixture.AppliedFor(repo.FullName).Count);
    }

    private (FakeGitHubApi.Repository Repo, FakeGitHubApi.Repository Fork, string BaseSha, string Head) ForkSetup()
    {
        var repo = fixture.NewRepo();
        var fork = fixture.NewRepo();
        var baseSha = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var head = fork.Commit("feature", ".ci/workflow.yaml", ForkManifest);
        return (repo, fork, baseSha, head);
    }

    private IEnumerable<RecordedGitHubRequest> ContentRequests(string repo) =>
        fixture.GitHub.ContentRequests.Where(r => r.Path.Contains(repo, StringComparison.Ordinal));

    private IEnumerable<RecordedGitHubRequest> RequestsFor(string repo) =>
        fixture.GitHub.Requests.Where(r => r.Path.Contains(repo, StringComparison.OrdinalIgnoreCase) || r.Query.Contains(repo, StringComparison.OrdinalIgnoreCase));

    private async Task<JsonObject> Send(string eventType, string body, HttpStatusCode expected, string? delivery = null)
    {
        using var response = await Service.SendAsync(eventType, body, delivery);
        var answer = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(response.StatusCode == expected, $"{eventType}: {(int)response.StatusCode} {answer.ToJsonString()}");
        return answer;
    }

    private static async Task<JsonObject> Json(HttpResponseMessage response)
    {
        using (response)
        {
            return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        }
    }

    private async Task<JsonObject?> Ref(string repo, int number)
    {
        using var response = await Service.Client.GetAsync($"/admin/repos/{repo}/{Key(number)}");
        return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonObject>() : null;
    }

    /// <summary>Waits until the pull request's ref holds an event waiting for approval, with nothing in flight.</summary>
    private Task<JsonObject> Waiting(string repo, int number) =>
        Eventually.Until(async () =>
            await Ref(repo, number) is { } state && state["queue"]!.AsArray().Any(q => q!["awaitingApproval"]!.GetValue<bool>()) && state["inFlight"] is null
                ? state : null,
            TimeSpan.FromSeconds(20), $"an event waiting for approval on {repo} {Key(number)}");

    private Task<JsonObject> Summary(string repo, int number) =>
        Eventually.Until(async () =>
        {
            using var response = await Service.Client.GetAsync($"/admin/refs?repo={repo}&state=waiting");
            var page = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            return page["refs"]!.AsArray().FirstOrDefault(r => r!["ref"]!.GetValue<string>() == Key(number))?.AsObject();
        }, TimeSpan.FromSeconds(20), "the catalog's waiting state");

    private async Task<JsonObject> Delivery(string delivery)
    {
        using var response = await Service.Client.GetAsync($"/admin/deliveries/{delivery}");
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Tests.EndToEnd;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Reruns;

/// <summary>
/// Re-runs over real HTTP in token mode: GitHub's Re-run buttons (<c>check_run</c> and <c>check_suite</c>
/// <c>rerequested</c>, from GitHub's own example payloads) and the operator's <c>POST /admin/deliveries/{id}/rerun</c>.
/// </summary>
[Collection(SharedService.Name)]
public class RerunTests(ServiceFixture fixture)
{
    private const string Main = "refs/heads/main";

    private TriggerHost Service => fixture.Service;

    private static async Task<(HttpStatusCode Status, JsonObject Body)> Answer(HttpResponseMessage response)
    {
        using var _ = response;
        return (response.StatusCode, (await response.Content.ReadFromJsonAsync<JsonObject>())!);
    }

    private static string CheckRun(string repo, string headSha, string externalId, string branch = "main")
    {
        var payload = JsonNode.Parse(Payloads.CheckRun(repo, branch, headSha))!.AsObject();
        payload["check_run"]!["external_id"] = externalId;
        return payload.ToJsonString();
    }

    private static string CheckSuiteRerequested(string repo, string branch, string headSha)
    {
        var payload = JsonNode.Parse(Payloads.CheckSuite(repo, branch, Payloads.Sha(1), headSha, "rerequested"))!.AsObject();
        payload["check_suite"]!["head_sha"] = headSha;
        return payload.ToJsonString();
    }

    private async Task<(FakeGitHubApi.Repository Repo, string After, string Delivery)> PushedAsync()
    {
        var repo = fixture.NewRepo();
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var delivery = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.Accepted, (await Answer(await Service.SendAsync("push", Payloads.Push(repo.FullName, Main, Payloads.Sha(1), after), delivery))).Status);
        await fixture.Finished(repo.FullName, Main);
        return (repo, after, delivery);
    }

    private static JsonObject Newest(JsonObject state) => state["history"]![0]!["event"]!.AsObject();

    private async Task<(HttpStatusCode Status, JsonObject Body)> Rerun(string delivery) =>
        await Answer(await Service.Client.PostAsync($"/admin/deliveries/{delivery}/rerun", null));

    [Fact]
    public async Task A_rerequested_check_run_of_a_processed_delivery_runs_that_event_again_under_increasing_rerun_ids()
    {
        var (repo, after, delivery) = await PushedAsync();
        var asked = Guid.NewGuid().ToString();

        var (status, first) = await Answer(await Service.SendAsync("check_run", CheckRun(repo.FullName, after, delivery), asked));
        var once = await fixture.Finished(repo.FullName, Main, 2);
        var (_, second) = await Answer(await Service.SendAsync("check_run", CheckRun(repo.FullName, after, delivery)));
        var twice = await fixture.Finished(repo.FullName, Main, 3);

        Assert.Equal((HttpStatusCode.Accepted, "queued", $"{delivery}-rerun-1", $"{repo.FullName}:{Main}"),
            (status, first["status"]!.GetValue<string>(), first["delivery"]!.GetValue<string>(), first["key"]!.GetValue<string>()));
        Assert.Equal($"{delivery}-rerun-2", second["delivery"]!.GetValue<string>());
        var rerun = Newest(once);
        Assert.Equal(($"{delivery}-rerun-1", delivery, "push", after, "applied"),
            (rerun["delivery"]!.GetValue<string>(), rerun["rerunOf"]!.GetValue<string>(), rerun["eventType"]!.GetValue<string>(), rerun["revision"]!.GetValue<string>(),
             once["history"]![0]!["outcome"]!.GetValue<string>()));
        Assert.Equal(delivery, Newest(twice)["rerunOf"]!.GetValue<string>());
        Assert.Equal("", twice["history"]![2]!["event"]!["rerunOf"]!.GetValue<string>());
        var applied = fixture.AppliedFor(repo.FullName);
        Assert.Equal(3, applied.Count);
        Assert.Equal([delivery, $"{delivery}-rerun-1", $"{delivery}-rerun-2"],
            applied.Select(a => a.Json["metadata"]!["annotations"]!["k8s-webhook-handler.io/delivery"]!.GetValue<string>()));
        Assert.All(applied, a => Assert.Equal(after, a.Json["metadata"]!["annotations"]!["k8s-webhook-handler.io/revision"]!.GetValue<string>()));
    }

    [Fact]
    public async Task GitHubs_redelivery_of_a_rerun_request_is_a_duplicate_and_runs_nothing_again()
    {
        var (repo, after, delivery) = await PushedAsync();
        var asked = Guid.NewGuid().ToString();

        var (status, _) = await Answer(await Service.SendAsync("check_run", CheckRun(repo.FullName, after, delivery), asked));
        await fixture.Finished(repo.FullName, Main, 2);
        var (again, answer) = await Answer(await Service.SendAsync("check_run", CheckRun(repo.FullName, after, delivery), asked));
        var state = await fixture.Finished(repo.FullName, Main, 2);

        Assert.Equal((HttpStatusCode.Accepted, HttpStatusCode.OK, "duplicate"), (status, again, answer["status"]!.GetValue<string>()));
        Assert.Equal(2, IsolatedService.Finished(state));
        Assert.Equal(0, IsolatedService.Queued(state));
    }

    [Fact]
    public async Task A_rerequested_check_run_whose_external_id_is_not_ours_is_an_ordinary_check_run_event()
    {
        var repo = fixture.NewRepo();
        var head = repo.Commit("feature", ".ci/workflow.yaml", SampleManifest.Workflow);
        var asked = Guid.NewGuid().ToString();

        var (status, answer) = await Answer(await Service.SendAsync("check_run", CheckRun(repo.FullName, head, Guid.NewGuid().ToString(), branch: "feature"), asked));
        var state = await fixture.Finished(repo.FullName, "refs/heads/feature");

        Assert.Equal((HttpStatusCode.Accepted, asked), (status, answer["delivery"]!.GetValue<string>()));
        Assert.Equal(("check_run", "rerequested", ""), (Newest(state)["eventType"]!.GetValue<string>(), Newest(state)["action"]!.GetValue<string>(), Newest(state)["rerunOf"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_delivery_of_another_repository_is_never_rerun_from_this_repositorys_check_run()
    {
        var (_, after, delivery) = await PushedAsync();
        var other = fixture.NewRepo();
        other.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow, after);
        var asked = Guid.NewGuid().ToString();

        var (status, answer) = await Answer(await Service.SendAsync("check_run", CheckRun(other.FullName, after, delivery), asked));
        var state = await fixture.Finished(other.FullName, Main);

        Assert.Equal((HttpStatusCode.Accepted, asked, $"{other.FullName}:{Main}"), (status, answer["delivery"]!.GetValue<string>(), answer["key"]!.GetValue<string>()));
        Assert.Equal(("check_run", ""), (Newest(state)["eventType"]!.GetValue<string>(), Newest(state)["rerunOf"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_rerequested_check_suite_reruns_the_newest_event_of_its_head_commit_and_otherwise_runs_as_today()
    {
        var repo = fixture.NewRepo();
        var first = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var push = Guid.NewGuid().ToString();
        var suite = Guid.NewGuid().ToString();
        await Service.SendAsync("push", Payloads.Push(repo.FullName, Main, Payloads.Sha(1), first), push);
        await fixture.Finished(repo.FullName, Main);
        await Service.SendAsync("check_suite", Payloads.CheckSuite(repo.FullName, "main", Payloads.Sha(1), first), suite);
        await fixture.Finished(repo.FullName, Main, 2);
        var second = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        await Service.SendAsync("push", Payloads.Push(repo.FullName, Main, first, second));
        await fixture.Finished(repo.FullName, Main, 3);
        var unknownHead = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var asked = Guid.NewGuid().ToString();

        var (status, rerun) = await Answer(await Service.SendAsync("check_suite", CheckSuiteRerequested(repo.FullName, "main", first)));
        var afterRerun = await fixture.Finished(repo.FullName, Main, 4);
        var (todayStatus, today) = await Answer(await Service.SendAsync("check_suite", CheckSuiteRerequested(repo.FullName, "main", unknownHead), asked));
        var state = await fixture.Finished(repo.FullName, Main, 5);

        Assert.Equal((HttpStatusCode.Accepted, $"{suite}-rerun-1"), (status, rerun["delivery"]!.GetValue<string>()));
        Assert.Equal((suite, first, "check_suite", "requested"),
            (Newest(afterRerun)["rerunOf"]!.GetValue<string>(), Newest(afterRerun)["revision"]!.GetValue<string>(),
             Newest(afterRerun)["eventType"]!.GetValue<string>(), Newest(afterRerun)["action"]!.GetValue<string>()));
        Assert.Equal((HttpStatusCode.Accepted, asked), (todayStatus, today["delivery"]!.GetValue<string>()));
        Assert.Equal((asked, "rerequested", ""), (Newest(state)["delivery"]!.GetValue<string>(), Newest(state)["action"]!.GetValue<string>(), Newest(state)["rerunOf"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_operator_reruns_a_finally_failed_delivery_once_its_cause_is_fixed()
    {
        var repo = fixture.NewRepo();
        var broken = repo.Commit("main", "README.md", "no manifest at this commit yet");
        var delivery = Guid.NewGuid().ToString();
        await Service.SendAsync("push", Payloads.Push(repo.FullName, Main, Payloads.Sha(1), broken), delivery);
        var failed = await fixture.Finished(repo.FullName, Main);
        repo.Files[(broken, ".ci/workflow.yaml")] = Encoding.UTF8.GetBytes(SampleManifest.Workflow);

        var (status, answer) = await Rerun(delivery);
        var state = await fixture.Finished(repo.FullName, Main, 2);
        using var record = await Service.Client.GetAsync($"/admin/deliveries/{delivery}-rerun-1");
        var rerun = (await record.Content.ReadFromJsonAsync<JsonObject>())!;

        Assert.Equal("failed", failed["history"]![0]!["outcome"]!.GetValue<string>());
        Assert.Equal((HttpStatusCode.Accepted, $"{delivery}-rerun-1", $"{repo.FullName}:{Main}", delivery),
            (status, answer["delivery"]!.GetValue<string>(), answer["key"]!.GetValue<string>(), answer["rerunOf"]!.GetValue<string>()));
        Assert.Equal("applied", state["history"]![0]!["outcome"]!.GetValue<string>());
        Assert.Equal((HttpStatusCode.OK, "applied", delivery, broken),
            (record.StatusCode, rerun["status"]!.GetValue<string>(), rerun["event"]!["rerunOf"]!.GetValue<string>(), rerun["event"]!["revision"]!.GetValue<string>()));
        Assert.Single(fixture.AppliedFor(repo.FullName));
    }

    [Fact]
    public async Task An_operators_rerun_of_a_skipped_delivery_runs_it()
    {
        var repo = fixture.NewRepo();
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var delivery = Guid.NewGuid().ToString();
        using (await Service.Client.PostAsync($"/admin/repos/{repo.FullName}/{Main}/pause", null))
        {
        }

        await Service.SendAsync("push", Payloads.Push(repo.FullName, Main, Payloads.Sha(1), after), delivery);
        var (whileQueued, conflict) = await Rerun(delivery);
        using (await Service.Client.PostAsync($"/admin/repos/{repo.FullName}/{Main}/skip", null))
        {
        }

        using (await Service.Client.PostAsync($"/admin/repos/{repo.FullName}/{Main}/resume", null))
        {
        }

        var skipped = await fixture.Finished(repo.FullName, Main);
        var (status, _) = await Rerun(delivery);
        var state = await fixture.Finished(repo.FullName, Main, 2);

        Assert.Equal(HttpStatusCode.Conflict, whileQueued);
        Assert.Contains("has not finished yet", conflict["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("skipped", skipped["history"]![0]!["outcome"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(("applied", $"{delivery}-rerun-1"), (state["history"]![0]!["outcome"]!.GetValue<string>(), Newest(state)["delivery"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("9a0e6d1c-1f2b-11f0-8a51-000000000000", HttpStatusCode.NotFound)]
    [InlineData("-starts-with-a-dash", HttpStatusCode.BadRequest)]
    [InlineData("has%20a%20space", HttpStatusCode.BadRequest)]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", HttpStatusCode.BadRequest)]
    public async Task An_unknown_delivery_is_404_and_what_is_no_delivery_id_is_400(string delivery, HttpStatusCode expected)
    {
        var (status, answer) = await Rerun(delivery);

        Assert.Equal(expected, status);
        Assert.False(string.IsNullOrEmpty(answer["error"]!.GetValue<string>()));
    }
}

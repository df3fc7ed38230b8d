using System.Text.Json;
using System.Text.Json.Nodes;
using CiTrigger.Gateway.Forges;
using CiTrigger.Gateway.Forges.GitHub;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>How the reader tells GitHub's Re-run buttons from the other check events.</summary>
public class RerunRequestReaderTests
{
    private const string Ours = "9a0e6d1c-1f2b-11f0-8a51-6f5c1b2e4d3a";
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static string CheckRun(string action, string externalId, long app = 99, string branch = "main")
    {
        var payload = JsonNode.Parse(Payloads.CheckRun("octo/app", branch, Payloads.Sha(3), action))!.AsObject();
        payload["check_run"]!["external_id"] = externalId;
        payload["check_run"]!["app"]!["id"] = app;
        return payload.ToJsonString();
    }

    private static EventReadResult Read(string eventType, string json, long? ownApp = null)
    {
        using var document = JsonDocument.Parse(json);
        return GitHubEventReader.Read(eventType, "d-1", document.RootElement, Now, ownApp: ownApp);
    }

    [Fact]
    public void A_rerequested_check_run_whose_external_id_is_a_delivery_id_asks_to_rerun_it_and_reads_as_today_otherwise()
    {
        var rerun = Assert.IsType<EventReadResult.RerunRequested>(Read("check_run", Payloads.Installed(CheckRun("rerequested", Ours), 41)));

        Assert.Equal(("octo/app", Ours, (string?)null), (rerun.Repository, rerun.Delivery, rerun.Ref));
        var otherwise = Assert.IsType<EventReadResult.Accepted>(rerun.Otherwise).Event;
        Assert.Equal(("check_run", "rerequested", "refs/heads/main", Payloads.Sha(3), 41L), (otherwise.EventType, otherwise.Action, otherwise.Ref, otherwise.Revision, otherwise.InstallationId));
        Assert.Equal("", otherwise.RerunOf);
    }

    [Fact]
    public void A_pipelines_check_names_its_delivery_and_pipeline_and_asks_to_rerun_that_pipeline_only()
    {
        var rerun = Assert.IsType<EventReadResult.RerunRequested>(Read("check_run", CheckRun("rerequested", Ours + "/backend-api")));

        Assert.Equal((Ours, "backend-api"), (rerun.Delivery, rerun.Pipeline));
        Assert.Null(Assert.IsType<EventReadResult.RerunRequested>(Read("check_run", CheckRun("rerequested", Ours))).Pipeline);
    }

    [Theory]
    [InlineData("")]
    [InlineData("build 17 of another app")]
    [InlineData("9a0e6d1c-1f2b-11f0-8a51-6f5c1b2e4d3a/Not_A_Pipeline")]
    [InlineData("9a0e6d1c-1f2b-11f0-8a51-6f5c1b2e4d3a/")]
    [InlineData("/backend")]
    [InlineData("9a0e6d1c-1f2b-11f0-8a51-6f5c1b2e4d3a/a/b")]
    [InlineData("-starts-with-a-dash")]
    [InlineData("line\nbreak")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void A_rerequested_check_run_whose_external_id_cannot_be_ours_is_an_ordinary_check_run_event(string externalId)
    {
        var e = Assert.IsType<EventReadResult.Accepted>(Read("check_run", CheckRun("rerequested", externalId))).Event;

        Assert.Equal(("check_run", "rerequested"), (e.EventType, e.Action));
    }

    [Theory]
    [InlineData("created")]
    [InlineData("completed")]
    [InlineData("requested_action")]
    public void In_app_mode_a_change_to_our_own_check_run_triggers_nothing_so_there_is_no_loop(string action)
    {
        var ignored = Assert.IsType<EventReadResult.Ignored>(Read("check_run", CheckRun(action, Ours), ownApp: 99));

        Assert.Contains("no loop", ignored.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void In_app_mode_a_rerequested_check_run_of_another_app_is_not_ours_whatever_its_external_id()
    {
        Assert.IsType<EventReadResult.Accepted>(Read("check_run", CheckRun("rerequested", Ours, app: 5), ownApp: 99));
        Assert.IsType<EventReadResult.RerunRequested>(Read("check_run", CheckRun("rerequested", Ours, app: 99), ownApp: 99));
    }

    [Fact]
    public void A_rerequested_check_run_without_a_branch_still_asks_for_its_rerun_and_is_ignored_otherwise()
    {
        var rerun = Assert.IsType<EventReadResult.RerunRequested>(Read("check_run", CheckRun("rerequested", Ours, branch: "")));

        Assert.Contains("head_branch is empty", Assert.IsType<EventReadResult.Ignored>(rerun.Otherwise).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rerequested_check_suite_asks_to_rerun_the_newest_event_of_its_head_commit_in_its_branch()
    {
        var payload = JsonNode.Parse(Payloads.CheckSuite("octo/app", "feature", Payloads.Sha(1), Payloads.Sha(2), "rerequested"))!.AsObject();
        payload["check_suite"]!["head_sha"] = Payloads.Sha(2);

        var rerun = Assert.IsType<EventReadResult.RerunRequested>(Read("check_suite", payload.ToJsonString()));
        var requested = Read("check_suite", Payloads.CheckSuite("octo/app", "feature", Payloads.Sha(1), Payloads.Sha(2)));

        Assert.Equal(("octo/app", (string?)null, "refs/heads/feature", Payloads.Sha(2)), (rerun.Repository, rerun.Delivery, rerun.Ref, rerun.Revision));
        Assert.Equal("check_suite", Assert.IsType<EventReadResult.Accepted>(rerun.Otherwise).Event.EventType);
        Assert.IsType<EventReadResult.Accepted>(requested);
    }
}

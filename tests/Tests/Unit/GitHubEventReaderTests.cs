using System.Text.Json;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Gateway.Forges;
using CiTrigger.Gateway.Forges.GitHub;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class GitHubEventReaderTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static EventReadResult Read(string eventType, string json)
    {
        using var document = JsonDocument.Parse(json);
        return GitHubEventReader.Read(eventType, "d-1", document.RootElement, Now);
    }

    private static HookEvent Accepted(string eventType, string json) =>
        Assert.IsType<EventReadResult.Accepted>(Read(eventType, json)).Event;

    [Fact]
    public void A_push_maps_after_to_revision_and_before_to_before()
    {
        var e = Accepted("push", Payloads.Push("Octo/App", "refs/heads/feature/x", Payloads.Sha(1), Payloads.Sha(2)));

        Assert.Equal(("push", "", "Octo/App", "refs/heads/feature/x", Payloads.Sha(2), Payloads.Sha(1)),
            (e.EventType, e.Action, e.Repository, e.Ref, e.Revision, e.Before));
        Assert.Equal(("git://github.com/Octo/App.git", "git@github.com:Octo/App.git"), (e.RepoUrl, e.RepoSsh));
        Assert.Equal("octo/app:refs/heads/feature/x", e.Key);
        Assert.Equal(Payloads.Sha(2), e.ManifestRef);
        Assert.Equal(("d-1", Now), (e.Delivery, e.ReceivedAt));
    }

    [Fact]
    public void The_app_installation_that_sent_an_event_is_kept_and_an_event_without_one_has_none()
    {
        var push = Payloads.Push("octo/app", "refs/heads/main", Payloads.Sha(1), Payloads.Sha(2));

        Assert.Equal(77, Accepted("push", Payloads.Installed(push, 77)).InstallationId);
        Assert.Null(Accepted("push", Payloads.Uninstalled(push)).InstallationId);
        Assert.Equal(77, Accepted("delete", Payloads.Installed(Payloads.Delete("octo/app", "x"), 77)).InstallationId);
    }

    [Fact]
    public void In_app_mode_the_apps_own_check_runs_trigger_nothing_except_a_rerun_request()
    {
        string CheckRun(string action, long app)
        {
            var payload = JsonNode.Parse(Payloads.CheckRun("octo/app", "main", Payloads.Sha(3), action))!.AsObject();
            payload["check_run"]!["app"]!["id"] = app;
            return payload.ToJsonString();
        }

        using var created = JsonDocument.Parse(CheckRun("created", 99));
        using var completed = JsonDocument.Parse(CheckRun("completed", 99));
        using var rerequested = JsonDocument.Parse(CheckRun("rerequested", 99));
        using var others = JsonDocument.Parse(CheckRun("created", 5));

        Assert.IsType<EventReadResult.Ignored>(GitHubEventReader.Read("check_run", "d-1", created.RootElement, Now, ownApp: 99));
        Assert.IsType<EventReadResult.Ignored>(GitHubEventReader.Read("check_run", "d-1", completed.RootElement, Now, ownApp: 99));
        Assert.IsType<EventReadResult.Accepted>(GitHubEventReader.Read("check_run", "d-1", rerequested.RootElement, Now, ownApp: 99));
        Assert.IsType<EventReadResult.Accepted>(GitHubEventReader.Read("check_run", "d-1", others.RootElement, Now, ownApp: 99));
        Assert.IsType<EventReadResult.Accepted>(GitHubEventReader.Read("check_run", "d-1", created.RootElement, Now));
    }

    [Fact]
    public void In_app_mode_the_apps_own_check_suites_trigger_nothing_except_a_rerun_request()
    {
        EventReadResult Read(string action, long app, long? ownApp)
        {
            var payload = JsonNode.Parse(Payloads.CheckSuite("octo/app", "main", Payloads.Sha(2), Payloads.Sha(3), action))!.AsObject();
            payload["check_suite"]!["app"]!["id"] = app;
            using var document = JsonDocument.Parse(Payloads.Installed(payload.ToJsonString(), 77));
            return GitHubEventReader.Read("check_suite", "d-1", document.RootElement, Now, ownApp: ownApp);
        }

        var requested = Assert.IsType<EventReadResult.Ignored>(Read("requested", 99, ownApp: 99));
        var completed = Assert.IsType<EventReadResult.Ignored>(Read("completed", 99, ownApp: 99));

        Assert.Contains("no loop", requested.Reason, StringComparison.Ordinal);
        Assert.Contains("no loop", completed.Reason, StringComparison.Ordinal);
        Assert.IsType<EventReadResult.RerunRequested>(Read("rerequested", 99, ownApp: 99));
        Assert.IsType<EventReadResult.Accepted>(Read("requested", 5, ownApp: 99));
        Assert.IsType<EventReadResult.Accepted>(Read("completed", 99, ownApp: null));
    }

    [Fact]
    public void An_installation_id_that_is_no_positive_number_is_rejected()
    {
        var push = JsonNode.Parse(Payloads.Push("octo/app", "refs/heads/main", Payloads.Sha(1), Payloads.Sha(2)))!.AsObject();
        push["installation"] = new JsonObject { ["id"] = "77" };

        Assert.Equal("'installation.id' is not an installation id", Assert.IsType<EventReadResult.Rejected>(Read("push", push.ToJsonString())).Reason);
    }

    [Fact]
    public void A_push_that_deletes_its_ref_reads_the_manifest_from_the_default_branch()
    {
        var e = Accepted("push", Payloads.Push("octo/app", "refs/heads/gone", Payloads.Sha(1), Payloads.ZeroSha, "trunk", deleted: true));

        Assert.True(e.RefDeleted);
        Assert.Equal("trunk", e.ManifestRef);
    }

    [Theory]
    [InlineData("branch", "feature/y", "refs/heads/feature/y")]
    [InlineData("tag", "v1.2.0", "refs/tags/v1.2.0")]
    public void A_delete_builds_its_ref_from_ref_type_and_has_no_revision(string refType, string name, string expectedRef)
    {
        var e = Accepted("delete", Payloads.Delete("octo/app", name, refType, "main"));

        Assert.Equal(("delete", expectedRef, "", ""), (e.EventType, e.Ref, e.Revision, e.Before));
        Assert.Equal("main", e.ManifestRef);
    }

    [Fact]
    public void A_check_run_uses_the_head_sha_and_the_suites_branch()
    {
        var e = Accepted("check_run", Payloads.CheckRun("octo/app", "topic", Payloads.Sha(7), "rerequested"));

        Assert.Equal(("check_run", "rerequested", "refs/heads/topic", Payloads.Sha(7), ""), (e.EventType, e.Action, e.Ref, e.Revision, e.Before));
    }

    [Fact]
    public void A_check_suite_uses_after_before_and_head_branch()
    {
        var e = Accepted("check_suite", Payloads.CheckSuite("octo/app", "topic", Payloads.Sha(3), Payloads.Sha(4), "requested"));

        Assert.Equal(("check_suite", "requested", "refs/heads/topic", Payloads.Sha(4), Payloads.Sha(3)), (e.EventType, e.Action, e.Ref, e.Revision, e.Before));
    }

    [Fact]
    public void A_check_suite_without_a_branch_is_ignored_with_a_reason()
    {
        var payload = JsonNode.Parse(Payloads.CheckSuite("octo/app", "x", Payloads.Sha(3), Payloads.Sha(4)))!;
        payload["check_suite"]!["head_branch"] = null;

        var ignored = Assert.IsType<EventReadResult.Ignored>(Read("check_suite", payload.ToJsonString()));
        Assert.Contains("head_branch", ignored.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ref", null, "missing required string 'ref'")]
    [InlineData("after", null, "missing required string 'after'")]
    [InlineData("after", "HEAD", "'after' is not a commit id")]
    [InlineData("ref", "main", "not a valid git ref")]
    [InlineData("ref", "refs/heads/a..b", "not a valid git ref")]
    [InlineData("ref", "refs/heads/a b", "not a valid git ref")]
    [InlineData("ref", "refs/heads/x\u0000y", @"control or invisible character \u0000")]
    [InlineData("ref", "refs/heads/x:y", "not a valid git ref")]
    public void A_push_with_a_missing_or_invalid_field_is_rejected_naming_it(string field, string? value, string reason)
    {
        var payload = JsonNode.Parse(Payloads.Push("octo/app", "refs/heads/main", Payloads.Sha(1), Payloads.Sha(2)))!.AsObject();
        if (value is null)
        {
            payload.Remove(field);
        }
        else
        {
            payload[field] = value;
        }

        var rejected = Assert.IsType<EventReadResult.Rejected>(Read("push", payload.ToJsonString()));
        Assert.Contains(reason, rejected.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("evil/../repo")]
    [InlineData("no-slash")]
    [InlineData("a/b/c")]
    public void A_repository_name_that_is_not_owner_slash_name_is_rejected(string fullName)
    {
        var payload = JsonNode.Parse(Payloads.Push("octo/app", "refs/heads/main", Payloads.Sha(1), Payloads.Sha(2)))!;
        payload["repository"]!["full_name"] = fullName;

        Assert.IsType<EventReadResult.Rejected>(Read("push", payload.ToJsonString()));
    }

    [Fact]
    public void A_payload_that_is_not_an_object_is_rejected() =>
        Assert.IsType<EventReadResult.Rejected>(Read("push", "[1,2,3]"));

    [Fact]
    public void Unicode_branch_names_are_valid_refs() =>
        Assert.Equal("refs/heads/ünïcødé/🚀", Accepted("push", Payloads.Push("octo/app", "refs/heads/ünïcødé/🚀", Payloads.Sha(1), Payloads.Sha(2))).Ref);
}

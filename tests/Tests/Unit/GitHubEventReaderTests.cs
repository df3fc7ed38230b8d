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

    /// <summary>A push of <paramref name="before"/>..sha 2 to main whose commits change the files given, commit by commit, as GitHub lists them.</summary>
    private static JsonObject PushWithCommits(string before, params (string[] Added, string[] Modified, string[] Removed)[] commits)
    {
        var payload = JsonNode.Parse(Payloads.Push("octo/app", "refs/heads/main", before, Payloads.Sha(2)))!.AsObject();
        var example = payload["commits"]![0]!;
        payload["commits"] = new JsonArray([.. commits.Select(c =>
        {
            var commit = example.DeepClone().AsObject();
            commit["added"] = new JsonArray([.. c.Added.Select(f => (JsonNode)f)]);
            commit["modified"] = new JsonArray([.. c.Modified.Select(f => (JsonNode)f)]);
            commit["removed"] = new JsonArray([.. c.Removed.Select(f => (JsonNode)f)]);
            return (JsonNode)commit;
        })]);
        return payload;
    }

    [Fact]
    public void A_push_that_lists_all_its_commits_carries_the_files_they_changed_once_each_in_ordinal_order()
    {
        var payload = PushWithCommits(Payloads.Sha(1),
            (["src/b.cs", "README.md"], ["docs/a.md"], []),
            ([], ["src/b.cs"], ["old/gone.txt"]));

        Assert.Equal(["README.md", "docs/a.md", "old/gone.txt", "src/b.cs"], Accepted("push", payload.ToJsonString()).ChangedFiles);
    }

    [Fact]
    public void The_example_push_of_an_existing_branch_changes_its_readme()
    {
        Assert.Equal(["README.md"], Accepted("push", Payloads.Push("octo/app", "refs/heads/main", Payloads.Sha(1), Payloads.Sha(2))).ChangedFiles);
    }

    [Theory]
    [InlineData("created")]
    [InlineData("zero before")]
    [InlineData("deleted")]
    [InlineData("no commits")]
    [InlineData("2048 commits")]
    [InlineData("301 files")]
    [InlineData("a path that is no string")]
    [InlineData("a path of 4097 characters")]
    [InlineData("an empty path")]
    [InlineData("a hidden character")]
    [InlineData("no removed list")]
    [InlineData("commits not a list")]
    public void A_push_whose_payload_may_not_list_every_changed_file_leaves_them_unknown_and_is_still_accepted(string why)
    {
        var payload = why switch
        {
            "zero before" => PushWithCommits(Payloads.ZeroSha, (["a"], [], [])),
            "no commits" => PushWithCommits(Payloads.Sha(1)),
            "2048 commits" => PushWithCommits(Payloads.Sha(1), [.. Enumerable.Repeat<(string[], string[], string[])>((["a"], [], []), 2048)]),
            "301 files" => PushWithCommits(Payloads.Sha(1), (["a"], [.. Enumerable.Range(0, 300).Select(i => $"f{i}")], [])),
            "a path of 4097 characters" => PushWithCommits(Payloads.Sha(1), ([new string('a', 4097)], [], [])),
            "an empty path" => PushWithCommits(Payloads.Sha(1), ([""], [], [])),
            "a hidden character" => PushWithCommits(Payloads.Sha(1), (["a\u202Eb"], [], [])),
            _ => PushWithCommits(Payloads.Sha(1), (["a"], ["b"], [])),
        };
        switch (why)
        {
            case "created":
                payload["created"] = true;
                break;
            case "deleted":
                payload["deleted"] = true;
                break;
            case "a path that is no string":
                payload["commits"]![0]!["modified"] = new JsonArray(7);
                break;
            case "no removed list":
                payload["commits"]![0]!.AsObject().Remove("removed");
                break;
            case "commits not a list":
                payload["commits"] = new JsonObject();
                break;
        }

        Assert.Null(Accepted("push", payload.ToJsonString()).ChangedFiles);
    }

    [Fact]
    public void A_push_of_2047_commits_and_300_files_of_4096_characters_at_most_lists_them()
    {
        var many = PushWithCommits(Payloads.Sha(1), [.. Enumerable.Range(0, 2047).Select(i => ((string[])[$"f{i % 300}"], (string[])[], (string[])[]))]);
        var longPath = PushWithCommits(Payloads.Sha(1), ([new string('a', 4096)], [], []));

        Assert.Equal(300, Accepted("push", many.ToJsonString()).ChangedFiles!.Count);
        Assert.Equal(4096, Assert.Single(Accepted("push", longPath.ToJsonString()).ChangedFiles!).Length);
    }

    [Fact]
    public void Events_other_than_pushes_carry_no_changed_files()
    {
        Assert.Null(Accepted("delete", Payloads.Delete("octo/app", "x")).ChangedFiles);
        Assert.Null(Accepted("check_suite", Payloads.CheckSuite("octo/app", "topic", Payloads.Sha(3), Payloads.Sha(4))).ChangedFiles);
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

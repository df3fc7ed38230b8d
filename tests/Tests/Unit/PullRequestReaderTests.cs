using System.Text.Json;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Gateway.Forges;
using CiTrigger.Gateway.Forges.GitHub;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>How pull request events and the comments on them are read: fork or not, whom they trust, which are commands.</summary>
public class PullRequestReaderTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static EventReadResult Read(string eventType, string json)
    {
        using var document = JsonDocument.Parse(json);
        return GitHubEventReader.Read(eventType, "d-1", document.RootElement, Now);
    }

    private static HookEvent Accepted(string eventType, string json) =>
        Assert.IsType<EventReadResult.Accepted>(Read(eventType, json)).Event;

    [Theory]
    [InlineData("octo/app", false)]
    [InlineData("Octo/App", false)]
    [InlineData("stranger/app", true)]
    [InlineData(null, true)]
    public void A_pull_request_from_another_or_a_deleted_repository_reads_its_manifest_from_the_base_commit(string? headRepo, bool fork)
    {
        var e = Accepted("pull_request", Payloads.PullRequest("octo/app", 12, "synchronize", Payloads.Sha(2), Payloads.Sha(9), "OWNER", headRepo, before: Payloads.Sha(1)));

        Assert.Equal(("octo/app:refs/pull/12/head", 12, Payloads.Sha(2), Payloads.Sha(1)), (e.Key, e.PullRequest, e.Revision, e.Before));
        Assert.Equal(fork ? Payloads.Sha(9) : Payloads.Sha(2), e.ManifestRef);
        Assert.Equal("octo/app", e.ManifestRepository);
        Assert.Equal(("refs/heads/main", headRepo is null ? "" : $"https://github.com/{headRepo}.git"), (e.BaseRef, e.HeadRepoUrl));
        Assert.True(e.ContinuesChain);
    }

    [Theory]
    [InlineData("OWNER", false, false)]
    [InlineData("MEMBER", false, false)]
    [InlineData("COLLABORATOR", false, false)]
    [InlineData("CONTRIBUTOR", false, true)]
    [InlineData("NONE", false, true)]
    [InlineData("NONE", true, true)]
    public void A_pull_request_needs_approval_unless_its_author_is_trusted_and_the_label_alone_approves_nothing(string association, bool labelled, bool needsApproval)
    {
        var e = Accepted("pull_request", Payloads.PullRequest("octo/app", 1, "opened", Payloads.Sha(2), Payloads.Sha(9), association, "fork/app",
            labels: labelled ? ["ok-to-test"] : ["bug"]));

        Assert.Equal((needsApproval, labelled), (e.NeedsApproval, e.ApprovalLabel));
        Assert.Null(e.RunsIfWriter);
        Assert.False(e.IsCommand);
    }

    [Theory]
    [InlineData("fork/app", "MEMBER", "synchronize", "fork-owner", "fork-owner", false)]
    [InlineData("fork/app", "MEMBER", "reopened", "triager", "triager", false)]
    [InlineData("fork/app", "MEMBER", "synchronize", Payloads.PullRequestAuthor, null, false)]
    [InlineData("fork/app", "MEMBER", "synchronize", "CODERTOCAT", null, false)]
    [InlineData("octo/app", "MEMBER", "synchronize", "colleague", null, false)]
    [InlineData("fork/app", "NONE", "synchronize", "fork-owner", null, true)]
    [InlineData("fork/app", "MEMBER", "closed", "fork-owner", null, false)]
    [InlineData("fork/app", "MEMBER", "synchronize", "not a login", null, true)]
    [InlineData("fork/app", "MEMBER", "synchronize", "", null, true)]
    public void A_forks_head_moved_by_someone_other_than_its_trusted_author_runs_only_if_github_says_the_sender_may_write(
        string headRepo, string association, string action, string sender, string? asked, bool needsApproval)
    {
        var e = Accepted("pull_request", Payloads.PullRequest("octo/app", 1, action, Payloads.Sha(2), Payloads.Sha(9), association, headRepo,
            before: action == "synchronize" ? Payloads.Sha(1) : null, sender: sender));

        Assert.Equal((asked, needsApproval, sender), (e.RunsIfWriter is { } logins ? Assert.Single(logins) : null, e.NeedsApproval, e.Sender));
    }

    [Fact]
    public void Closing_a_pull_request_never_waits_and_an_untrusted_same_repository_teardown_reads_the_base()
    {
        var e = Accepted("pull_request", Payloads.PullRequest("octo/app", 1, "closed", Payloads.Sha(2), Payloads.Sha(9), "NONE", merged: true));

        Assert.Equal((false, true, Payloads.Sha(9)), (e.NeedsApproval, e.Merged, e.ManifestRef));
    }

    [Fact]
    public void Adding_or_removing_the_approval_label_is_a_command_naming_who_did_it_and_another_label_is_an_ordinary_action()
    {
        var label = Accepted("pull_request", Payloads.PullRequest("octo/app", 1, "labeled", Payloads.Sha(2), Payloads.Sha(9), "NONE", "fork/app", label: "ok-to-test", sender: "maintainer"));
        var unlabel = Accepted("pull_request", Payloads.PullRequest("octo/app", 1, "unlabeled", Payloads.Sha(2), Payloads.Sha(9), "NONE", "fork/app", label: "ok-to-test", sender: "triager"));
        var other = Accepted("pull_request", Payloads.PullRequest("octo/app", 1, "labeled", Payloads.Sha(2), Payloads.Sha(9), "NONE", "fork/app", label: "bug"));

        Assert.Equal((HookEvent.LabelCommand, "maintainer", false), (label.Command, label.Sender, label.NeedsApproval));
        Assert.Equal((HookEvent.UnlabelCommand, "triager"), (unlabel.Command, unlabel.Sender));
        Assert.False(other.IsCommand);
    }

    [Fact]
    public void The_approval_label_added_by_no_user_github_can_be_asked_about_approves_nothing()
    {
        var ignored = Assert.IsType<EventReadResult.Ignored>(Read("pull_request",
            Payloads.PullRequest("octo/app", 1, "labeled", Payloads.Sha(2), Payloads.Sha(9), "NONE", "fork/app", label: "ok-to-test", sender: "../../admin")));

        Assert.Contains("approves nothing", ignored.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/ok-to-test", "MEMBER", "created", true, HookEvent.ApproveCommand)]
    [InlineData("lgtm\n  /retest  \n", "OWNER", "created", true, HookEvent.RetestCommand)]
    [InlineData("/ok-to-test", "CONTRIBUTOR", "created", true, null)]
    [InlineData("/ok-to-test", "MEMBER", "edited", true, null)]
    [InlineData("/ok-to-test", "MEMBER", "created", false, null)]
    [InlineData("please /ok-to-test", "MEMBER", "created", true, HookEvent.CommentCommand)]
    public void Only_a_trusted_users_new_comment_on_a_pull_request_with_a_command_line_is_a_command(string body, string association, string action, bool onPullRequest, string? command)
    {
        var read = Read("issue_comment", Payloads.IssueComment("octo/app", 4, body, association, action, onPullRequest));

        if (command is null)
        {
            Assert.IsType<EventReadResult.Ignored>(read);
            return;
        }

        var e = Assert.IsType<EventReadResult.Accepted>(read).Event;
        Assert.Equal((command, "octo/app:refs/pull/4/head", association), (e.Command, e.Key, e.AuthorAssociation));
    }

    [Fact]
    public void A_pull_request_event_carries_its_labels_names_and_at_most_100()
    {
        var labelled = Accepted("pull_request", Payloads.PullRequest("octo/app", 1, "opened", Payloads.Sha(2), Payloads.Sha(9), labels: ["Run-Tests", "bug", "bug"]));
        var unlabelled = Accepted("pull_request", Payloads.PullRequest("octo/app", 1, "opened", Payloads.Sha(2), Payloads.Sha(9)));
        var many = Accepted("pull_request", Payloads.PullRequest("octo/app", 1, "opened", Payloads.Sha(2), Payloads.Sha(9),
            labels: [.. Enumerable.Range(0, 150).Select(i => $"l{i}")]));

        Assert.Equal(["Run-Tests", "bug"], labelled.Labels);
        Assert.Equal([], unlabelled.Labels);
        Assert.Equal(100, many.Labels!.Count);
        Assert.Equal("l99", many.Labels[^1]);
    }

    [Fact]
    public void A_label_name_longer_than_any_field_allows_is_refused_naming_the_field()
    {
        var read = Read("pull_request", Payloads.PullRequest("octo/app", 1, "opened", Payloads.Sha(2), Payloads.Sha(9), labels: [new string('x', 1001)]));

        Assert.Contains("pull_request.labels[].name", Assert.IsType<EventReadResult.Rejected>(read).Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/test", HookEvent.TestCommand, null, null)]
    [InlineData("  /test   \r\nplease", HookEvent.TestCommand, null, null)]
    [InlineData("/test e2e-api", HookEvent.TestCommand, "e2e-api", null)]
    [InlineData("/test\te2e", HookEvent.TestCommand, "e2e", null)]
    [InlineData("/cancel", HookEvent.CancelCommand, null, null)]
    [InlineData("/cancel build \n", HookEvent.CancelCommand, "build", null)]
    [InlineData("/deploy staging\nthanks", HookEvent.CommentCommand, null, "/deploy staging")]
    [InlineData("  Looks good  \r\n/test", HookEvent.CommentCommand, null, "Looks good")]
    [InlineData("/testing now", HookEvent.CommentCommand, null, "/testing now")]
    [InlineData("lgtm\n/retest", HookEvent.RetestCommand, null, null)]
    [InlineData("/test build\n/ok-to-test", HookEvent.ApproveCommand, null, null)]
    public void A_trusted_comments_first_line_is_a_pipeline_command_or_a_comment_for_on_comment(string body, string command, string? pipeline, string? line)
    {
        var e = Accepted("issue_comment", Payloads.IssueComment("octo/app", 4, body, "MEMBER"));

        Assert.Equal((command, "octo/app:refs/pull/4/head", line), (e.Command, e.Key, e.CommentLine));
        Assert.Equal(pipeline, e.Pipelines is { } pipelines ? Assert.Single(pipelines) : null);
        Assert.Equal("", e.Revision);
    }

    [Fact]
    public void An_ordinary_comments_line_is_cut_at_1000_characters()
    {
        var e = Accepted("issue_comment", Payloads.IssueComment("octo/app", 4, new string('x', 1500) + "\nmore", "OWNER"));

        Assert.Equal((HookEvent.CommentCommand, 1000), (e.Command, e.CommentLine!.Length));
    }

    [Theory]
    [InlineData("/test Build", "'Build'")]
    [InlineData("/test build_x", "'build_x'")]
    [InlineData("/cancel a b", "at most one pipeline name")]
    [InlineData("", "first line is empty")]
    [InlineData("\nplease deploy", "first line is empty")]
    [InlineData("deploy \u202E now", "invisible character")]
    public void A_trusted_comment_that_names_no_valid_pipeline_or_has_no_usable_line_is_ignored_with_a_reason(string body, string reason)
    {
        var read = Read("issue_comment", Payloads.IssueComment("octo/app", 4, body, "MEMBER"));

        Assert.Contains(reason, Assert.IsType<EventReadResult.Ignored>(read).Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/test", "/test from a commenter")]
    [InlineData("/cancel build", "/cancel from a commenter")]
    [InlineData("/deploy staging", "runs nothing")]
    [InlineData("/retest", "/retest from a commenter")]
    public void An_untrusted_commenters_comment_is_ignored_whatever_it_says(string body, string reason)
    {
        var read = Read("issue_comment", Payloads.IssueComment("octo/app", 4, body, "CONTRIBUTOR"));

        Assert.Contains(reason, Assert.IsType<EventReadResult.Ignored>(read).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pull_request_without_a_number_is_refused_naming_the_field()
    {
        var payload = JsonNode.Parse(Payloads.PullRequest("octo/app", 1, "opened", Payloads.Sha(2), Payloads.Sha(9)))!.AsObject();
        payload.Remove("number");

        Assert.Contains("'number'", Assert.IsType<EventReadResult.Rejected>(Read("pull_request", payload.ToJsonString())).Reason, StringComparison.Ordinal);
    }
}

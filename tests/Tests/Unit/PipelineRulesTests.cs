using System.Collections.Immutable;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>A pipeline's on-* rules against the events the service handles: which run it and why the others do not.</summary>
public class PipelineRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static HookEvent Event(string type, string action, string gitRef, int pullRequest = 0, string baseRef = "", ImmutableList<string>? labels = null,
        string command = "", string? commentLine = null) =>
        new("d-1", type, action, "octo/app", "git://github.com/octo/app.git", "", gitRef, "", "", "main", type == "delete", Now,
            PullRequest: pullRequest, BaseRef: baseRef, Labels: labels, Command: command, CommentLine: commentLine);

    /// <summary>The events of the table, by name, with the files they changed.</summary>
    private static PipelineContext Context(string name) => name switch
    {
        "push main" => PipelineContext.From(Event("push", "", "refs/heads/main"), ["services/api/main.go", "README.md"]),
        "push tag" => PipelineContext.From(Event("push", "", "refs/tags/v1.2.0"), null),
        "pr opened" => PipelineContext.From(
            Event("pull_request", "opened", "refs/pull/3/head", 3, "refs/heads/main", ["Run-Tests", "bug"]), ["docs/guide.md"]),
        "pr closed" => PipelineContext.From(Event("pull_request", "closed", "refs/pull/3/head", 3, "refs/heads/main"), ["docs/guide.md"]),
        "delete" => PipelineContext.From(Event("delete", "", "refs/heads/feature"), null),
        "comment" => PipelineContext.From(
            Event("issue_comment", "created", "refs/pull/3/head", 3, command: HookEvent.CommentCommand, commentLine: "/deploy staging"), null),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static PipelineRules Rules(params (string Rule, string Value)[] annotations)
    {
        var map = new JsonObject();
        foreach (var (rule, value) in annotations)
        {
            map[ManifestAnnotator.Prefix + rule] = value;
        }

        return PipelineRules.Parse(new JsonObject
        {
            ["apiVersion"] = "batch/v1",
            ["kind"] = "Job",
            ["metadata"] = new JsonObject { ["name"] = "build", ["annotations"] = map },
        });
    }

    public static TheoryData<string, string, string, string?> Table() => new()
    {
        // No rules: every event but a comment.
        { "", "", "push main", null },
        { "", "", "push tag", null },
        { "", "", "pr opened", null },
        { "", "", "pr closed", null },
        { "", "", "delete", null },
        { "", "", "comment", "on-comment: a comment runs only pipelines that have this rule" },

        { "on-event", "push", "push main", null },
        { "on-event", "push", "push tag", null },
        { "on-event", "pull_request", "push main", "on-event: push is not pull_request" },
        { "on-event", "pull_request", "pr opened", null },
        { "on-event", "pull_request", "pr closed", null },
        { "on-event", " push , pull_request:opened ,, ", "pr opened", null },
        { "on-event", "push,pull_request:opened", "pr closed", "on-event: pull_request:closed is not push, pull_request:opened" },
        { "on-event", "pull_request:closed", "pr closed", null },
        { "on-event", "delete", "delete", null },
        { "on-event", "push", "delete", "on-event: delete is not push" },

        { "on-branch", "main", "push main", null },
        { "on-branch", "release/*", "push main", "on-branch: main is not release/*" },
        { "on-branch", "main", "push tag", "on-branch: the event is on no branch" },
        { "on-branch", "main", "pr opened", null },
        { "on-branch", "ma?n, develop", "pr closed", null },
        { "on-branch", "feature", "pr opened", "on-branch: main is not feature" },
        { "on-branch", "feat*", "delete", null },
        { "on-branch", "main", "comment", "on-comment: a comment runs only pipelines that have this rule" },

        { "on-tag", "v*", "push tag", null },
        { "on-tag", "v2.*", "push tag", "on-tag: v1.2.0 is not v2.*" },
        { "on-tag", "v*", "push main", "on-tag: the event pushes no tag" },
        { "on-tag", "*", "pr opened", "on-tag: the event pushes no tag" },

        { "on-path-change", "services/api/**", "push main", null },
        { "on-path-change", "services/web/**", "push main", "on-path-change: no changed file matches services/web/**" },
        { "on-path-change", "docs/**", "pr opened", null },
        { "on-path-change", "**/*.md", "push main", null },
        { "on-path-change", "services/api/**", "push tag", null },
        { "on-path-change", "services/api/**", "delete", null },

        { "on-path-change-ignore", "docs/**", "pr opened", "on-path-change-ignore: every changed file matches docs/**" },
        { "on-path-change-ignore", "docs/**, *.md", "push main", null },
        { "on-path-change-ignore", "**", "push main", "on-path-change-ignore: every changed file matches **" },
        { "on-path-change-ignore", "docs/**", "push tag", null },

        { "on-label", "run-tests", "pr opened", null },
        { "on-label", "RUN-TESTS", "pr opened", null },
        { "on-label", "deploy, security", "pr opened", "on-label: the pull request carries none of deploy, security" },
        { "on-label", "run-tests", "pr closed", "on-label: the pull request carries none of run-tests" },
        { "on-label", "run-tests", "push main", "on-label: the pull request carries none of run-tests" },

        { "on-comment", "^/deploy\\b", "comment", null },
        { "on-comment", "^/deploy (staging|prod)$", "comment", null },
        { "on-comment", "^/ship", "comment", "on-comment: the comment does not match ^/ship" },
        { "on-comment", "^/deploy", "push main", "on-comment: push is not a comment" },
        { "on-comment", "^/deploy", "pr opened", "on-comment: pull_request:opened is not a comment" },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void A_rule_holds_for_the_events_it_names_and_says_why_not_for_the_others(string rule, string value, string eventName, string? mismatch)
    {
        var rules = rule.Length == 0 ? Rules() : Rules((rule, value));

        Assert.Equal(mismatch, rules.Mismatch(Context(eventName)));
    }

    [Fact]
    public void All_given_rules_must_hold()
    {
        var rules = Rules(("on-event", "push"), ("on-branch", "main"), ("on-path-change", "docs/**"));

        Assert.Equal("on-path-change: no changed file matches docs/**", rules.Mismatch(Context("push main")));
        Assert.Equal("on-event: pull_request:opened is not push", rules.Mismatch(Context("pr opened")));
        Assert.Null(Rules(("on-event", "push"), ("on-branch", "main"), ("on-path-change", "services/**")).Mismatch(Context("push main")));
    }

    [Fact]
    public void Unknown_changed_files_let_both_path_rules_hold_and_an_empty_set_lets_neither()
    {
        var change = Rules(("on-path-change", "src/**"));
        var ignore = Rules(("on-path-change-ignore", "docs/**"));
        PipelineContext Push(IReadOnlyList<string>? files) => PipelineContext.From(Event("push", "", "refs/heads/main"), files);

        Assert.Null(change.Mismatch(Push(null)));
        Assert.Null(ignore.Mismatch(Push(null)));
        Assert.Equal("on-path-change: no changed file matches src/**", change.Mismatch(Push([])));
        Assert.Equal("on-path-change-ignore: no file changed", ignore.Mismatch(Push([])));
        Assert.Null(ignore.Mismatch(Push(["docs/a.md", "src/b.cs"])));
        Assert.NotNull(ignore.Mismatch(Push(["docs/a.md", "docs/x/b.md"])));
    }

    [Fact]
    public void The_context_of_an_event_names_its_branch_tag_labels_and_comment()
    {
        Assert.Equal(("main", (string?)null), (Context("push main").Branch, Context("push main").Tag));
        Assert.Equal(((string?)null, "v1.2.0"), (Context("push tag").Branch, Context("push tag").Tag));
        Assert.Equal(("main", (string?)null), (Context("pr opened").Branch, Context("pr opened").Tag));
        Assert.Equal(["Run-Tests", "bug"], Context("pr opened").Labels);
        Assert.Empty(Context("push main").Labels);
        Assert.Equal(("issue_comment", "created", "/deploy staging"), (Context("comment").EventType, Context("comment").Action, Context("comment").CommentLine));
        Assert.Null(Context("push tag").ChangedFiles);
    }

    [Fact]
    public void A_document_without_annotations_or_metadata_has_no_rules()
    {
        Assert.Null(PipelineRules.Parse(new JsonObject { ["kind"] = "Job" }).Mismatch(Context("push main")));
        var other = PipelineRules.Parse(new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { ["example.com/on-event"] = 3 } } });
        Assert.Null(other.Mismatch(Context("delete")));
        Assert.False(other.HasCommentRule);
        Assert.True(Rules(("on-comment", "^/x")).HasCommentRule);
    }

    [Theory]
    [InlineData("on-comment", "(", "on-comment")]
    [InlineData("on-comment", "(a)\\1", "on-comment")]
    [InlineData("on-comment", "  ", "on-comment")]
    [InlineData("on-xyz", "push", "on-xyz")]
    [InlineData("on-Event", "push", "on-Event")]
    [InlineData("on-branch", " , ", "on-branch")]
    [InlineData("on-event", "pull request", "on-event")]
    [InlineData("on-event", "push:a:b", "on-event")]
    public void A_value_that_cannot_be_a_rule_is_an_error_naming_its_annotation(string rule, string value, string named)
    {
        var e = Assert.Throws<ManifestException>(() => Rules((rule, value)));

        Assert.Contains(ManifestAnnotator.Prefix + named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_value_that_is_no_string_is_an_error_naming_its_annotation()
    {
        var document = new JsonObject
        {
            ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [PipelineRules.OnLabel] = new JsonArray("a", "b") } },
        };

        Assert.Contains(PipelineRules.OnLabel, Assert.Throws<ManifestException>(() => PipelineRules.Parse(document)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_expression_that_backtracking_would_take_ages_over_returns()
    {
        var rules = Rules(("on-comment", "(a+)+$"));
        var context = PipelineContext.From(
            Event("issue_comment", "created", "refs/pull/3/head", 3, command: HookEvent.CommentCommand, commentLine: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"), null);

        Assert.Equal("on-comment: the comment does not match (a+)+$", rules.Mismatch(context));
    }

    [Theory]
    [InlineData("build", true)]
    [InlineData("e2e-tests-2", true)]
    [InlineData("", false)]
    [InlineData("Build", false)]
    [InlineData("build_x", false)]
    [InlineData("build.x", false)]
    [InlineData("b\u00fcild", false)]
    public void Pipeline_names_are_lower_case_letters_digits_and_hyphens(string name, bool valid)
    {
        Assert.Equal(valid, Names.IsPipeline(name));
        Assert.Equal(valid, Names.IsPipeline(name));
    }

    [Fact]
    public void A_pipeline_name_is_at_most_63_characters()
    {
        Assert.True(Names.IsPipeline(new string('a', 63)));
        Assert.False(Names.IsPipeline(new string('a', 64)));
    }

    [Theory]
    [InlineData("build.yaml", true, "build")]
    [InlineData("build.yml", true, "build")]
    [InlineData("Build.yml", true, "Build")]
    [InlineData("build.json", false, "")]
    [InlineData("build.YAML", false, "")]
    [InlineData(".yaml", false, "")]
    [InlineData("run", false, "")]
    [InlineData("a.b.yaml", true, "a.b")]
    public void A_yaml_file_is_a_pipeline_named_without_its_extension(string fileName, bool isPipeline, string name)
    {
        Assert.Equal((isPipeline, name), (PipelineNames.TryFromFileName(fileName, out var found), found));
    }
}

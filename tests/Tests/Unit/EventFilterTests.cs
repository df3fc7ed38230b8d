using CiTrigger.Gateway.Events;
using CiTrigger.Gateway.Forges.GitHub;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class EventFilterTests
{
    private static string? Reason(string repositories, string repository) =>
        new EventFilter(new FilterOptions { Repositories = repositories }).IgnoreReason(repository, "refs/heads/main");

    [Theory]
    [InlineData("octo/app", "octo/app")]
    [InlineData("octo/app", "Octo/App")]
    [InlineData("Octo/.*", "octo/anything")]
    [InlineData("octo/app|octo/lib", "octo/lib")]
    public void Handler_Repositories_admits_a_whole_name_in_any_case(string pattern, string repository) =>
        Assert.Null(Reason(pattern, repository));

    [Theory]
    [InlineData("octo/app", "octo/app-x")]
    [InlineData("octo/app", "x-octo/app")]
    [InlineData("octo/app", "octo/app.git")]
    [InlineData("octo/app|octo/lib", "octo/library")]
    [InlineData("octo/app|octo/lib", "not-octo/app")]
    public void Handler_Repositories_does_not_admit_a_name_it_only_matches_part_of(string pattern, string repository) =>
        Assert.Contains("Handler:Repositories", Reason(pattern, repository), StringComparison.Ordinal);

    [Fact]
    public void Handler_IgnoreRefs_still_matches_anywhere_in_the_ref()
    {
        var filter = new EventFilter(new FilterOptions { IgnoreRefs = "wip" });

        Assert.Contains("Handler:IgnoreRefs", filter.IgnoreReason("octo/app", "refs/heads/feature/wip-1"), StringComparison.Ordinal);
        Assert.Null(filter.IgnoreReason("octo/app", "refs/heads/main"));
    }

    [Theory]
    [InlineData("octo/app)|(.*")]
    [InlineData("(octo/app")]
    public void A_Handler_Repositories_pattern_that_is_not_a_regular_expression_on_its_own_stops_start_up(string pattern)
    {
        var errors = new FilterOptions { Repositories = pattern }.Validate().ToList();

        Assert.Contains(errors, e => e.StartsWith("Handler:Repositories:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("refs/heads/main", true)]
    [InlineData("refs/pull/12/head", true)]
    [InlineData("refs/heads/main-old", false)]
    [InlineData("refs/heads/feature", false)]
    [InlineData("refs/pull/12/merge", false)]
    [InlineData("refs/tags/v1", false)]
    public void Handler_Refs_admits_only_whole_matching_refs_so_only_main_and_pull_requests_can_be_expressed(string gitRef, bool admitted)
    {
        var filter = new EventFilter(new FilterOptions { Refs = @"refs/heads/main|refs/pull/\d+/head" });

        var reason = filter.IgnoreReason("octo/app", gitRef);

        Assert.Equal(admitted, reason is null);
        Assert.True(admitted || reason!.Contains("Handler:Refs", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("pull_request", "opened", true)]
    [InlineData("pull_request", "closed", true)]
    [InlineData("pull_request", "edited", false)]
    [InlineData("check_run", "rerequested", true)]
    [InlineData("check_run", "completed", false)]
    [InlineData("check_suite", "requested", false)]
    [InlineData("push", "", true)]
    public void Handler_Actions_defaults_to_the_designs_list_and_keeps_every_action_of_a_type_it_does_not_name(string eventType, string action, bool handled)
    {
        var filter = new EventFilter(new FilterOptions());
        var e = new CiTrigger.Grains.Abstractions.HookEvent("d", eventType, action, "octo/app", "", "", "refs/heads/main", "", "", "main", false, DateTimeOffset.UnixEpoch);

        Assert.Equal(handled, filter.ActionIgnoreReason(e) is null);
        Assert.Null(filter.ActionIgnoreReason(e with { Command = CiTrigger.Grains.Abstractions.HookEvent.ApproveCommand }));
    }

    [Theory]
    [InlineData("Handler:Actions", "pull_request")]
    [InlineData("Handler:Actions", "pull_request:")]
    [InlineData("Handler:Actions", "gollum:created")]
    [InlineData("Handler:Actions", "push:a,push:b")]
    [InlineData("Handler:Refs", "(refs/heads/main")]
    [InlineData("Handler:TrustedAssociations", "OWNER,FRIEND")]
    [InlineData("Handler:OkToTestLabel", " ")]
    public void A_bad_pull_request_or_filter_setting_stops_start_up_naming_its_key(string key, string value)
    {
        var options = new FilterOptions();
        var pullRequests = new PullRequestOptions();
        switch (key)
        {
            case "Handler:Actions": options.Actions = value; break;
            case "Handler:Refs": options.Refs = value; break;
            case "Handler:TrustedAssociations": pullRequests.TrustedAssociations = value; break;
            default: pullRequests.OkToTestLabel = value; break;
        }

        Assert.Contains(options.Validate().Concat(pullRequests.Validate()), e => e.StartsWith(key + ":", StringComparison.Ordinal));
    }

    [Fact]
    public void By_default_pushes_deletes_check_runs_and_check_suites_are_handled_and_nothing_else()
    {
        var filter = new EventFilter(new FilterOptions());

        Assert.All(["push", "delete", "check_run", "check_suite"], e => Assert.True(filter.HandlesEventType(e), e));
        Assert.All(["issues", "ping", "pull_request", "Push", ""], e => Assert.False(filter.HandlesEventType(e), e));
    }

    [Fact]
    public void Only_the_configured_event_types_are_handled()
    {
        var filter = new EventFilter(new FilterOptions { Events = "push, delete" });

        Assert.True(filter.HandlesEventType("push"));
        Assert.True(filter.HandlesEventType("delete"));
        Assert.False(filter.HandlesEventType("check_run"));
    }

    [Fact]
    public void Without_patterns_every_repository_and_ref_is_handled()
    {
        var filter = new EventFilter(new FilterOptions());

        Assert.Null(filter.IgnoreReason("octo/app", "refs/heads/main"));
        Assert.Null(filter.IgnoreReason("any/thing", "refs/tags/v1"));
    }

    [Fact]
    public void A_ref_matching_ignore_refs_is_ignored_with_the_reason()
    {
        var filter = new EventFilter(new FilterOptions { IgnoreRefs = "^refs/heads/(ignored|dependabot)/" });

        Assert.Equal("ref 'refs/heads/ignored/wip' matches Handler:IgnoreRefs", filter.IgnoreReason("octo/app", "refs/heads/ignored/wip"));
        Assert.NotNull(filter.IgnoreReason("octo/app", "refs/heads/dependabot/npm/x"));
        Assert.Null(filter.IgnoreReason("octo/app", "refs/heads/main"));
        Assert.Null(filter.IgnoreReason("octo/app", "refs/heads/not-ignored/x"));
    }

    [Fact]
    public void An_unanchored_pattern_matches_anywhere_in_the_ref()
    {
        var filter = new EventFilter(new FilterOptions { IgnoreRefs = "wip" });

        Assert.NotNull(filter.IgnoreReason("octo/app", "refs/heads/feature/wip-1"));
        Assert.Null(filter.IgnoreReason("octo/app", "refs/heads/feature/done"));
    }

    [Theory]
    [InlineData("(unclosed", "IgnoreRefs")]
    [InlineData(@"(a)\1", "IgnoreRefs")]
    [InlineData("(?<=x)y", "Repositories")]
    public void A_pattern_the_linear_time_engine_cannot_run_is_a_configuration_error_naming_the_key(string pattern, string key)
    {
        var options = key == "IgnoreRefs" ? new FilterOptions { IgnoreRefs = pattern } : new FilterOptions { Repositories = pattern };

        var error = Assert.Single(options.Validate());

        Assert.StartsWith($"Handler:{key}: '{pattern}' is not a usable regular expression", error, StringComparison.Ordinal);
        Assert.Null(EventFilter.TryCompile(pattern, out var reason));
        Assert.Contains(pattern, reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsupported_or_missing_event_types_are_configuration_errors()
    {
        Assert.Contains(new FilterOptions { Events = "push,issues" }.Validate(), e => e.StartsWith("Handler:Events: 'issues' is not supported", StringComparison.Ordinal));
        Assert.Contains(new FilterOptions { Events = " , " }.Validate(), e => e == "Handler:Events: at least one event type is needed");
        Assert.Empty(new FilterOptions().Validate());
    }
}

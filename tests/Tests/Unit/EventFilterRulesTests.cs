using CiTrigger.Gateway.Events;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class EventFilterRulesTests
{
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

using CiTrigger.Gateway.Events;
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
}

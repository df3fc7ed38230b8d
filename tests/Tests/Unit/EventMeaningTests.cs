using System.Text.Json;
using CiTrigger.Gateway.Forges;
using CiTrigger.Gateway.Forges.GitHub;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>What an event means to its ref is decided by GitHub's reader, once, from the payload: the same answers the code gave before it did.</summary>
public class EventMeaningTests
{
    private static HookEvent Read(string eventType, string json)
    {
        using var document = JsonDocument.Parse(json);
        return Assert.IsType<EventReadResult.Accepted>(GitHubEventReader.Read(eventType, "d-1", document.RootElement, DateTimeOffset.UnixEpoch)).Event;
    }

    private static string PullRequest(string action, string? label = null) =>
        Payloads.PullRequest("octo/app", 4, action, Payloads.Sha(2), Payloads.Sha(9), before: action == "synchronize" ? Payloads.Sha(1) : null, label: label);

    public static TheoryData<string, string, ChainEffect, bool> Events() => new()
    {
        { "push", Payloads.Push("octo/app", "refs/heads/main", Payloads.Sha(1), Payloads.Sha(2)), ChainEffect.Moves, false },
        { "push", Payloads.Push("octo/app", "refs/heads/main", Payloads.ZeroSha, Payloads.Sha(2)), ChainEffect.Moves, false },
        { "push", Payloads.Push("octo/app", "refs/heads/main", Payloads.Sha(2), Payloads.ZeroSha, deleted: true), ChainEffect.Ends, true },
        { "delete", Payloads.Delete("octo/app", "main"), ChainEffect.Clears, true },
        { "pull_request", PullRequest("opened"), ChainEffect.Moves, false },
        { "pull_request", PullRequest("synchronize"), ChainEffect.Moves, false },
        { "pull_request", PullRequest("reopened"), ChainEffect.Moves, false },
        { "pull_request", PullRequest("closed"), ChainEffect.Ends, true },
        { "pull_request", PullRequest("labeled", label: "ok-to-test"), ChainEffect.None, false },
        { "pull_request", PullRequest("unlabeled", label: "ok-to-test"), ChainEffect.None, false },
        { "pull_request", PullRequest("labeled", label: "bug"), ChainEffect.Moves, false },
        { "issue_comment", Payloads.IssueComment("octo/app", 4, "/ok-to-test"), ChainEffect.None, false },
        { "check_run", Payloads.CheckRun("octo/app", "main", Payloads.Sha(2)), ChainEffect.None, false },
        { "check_suite", Payloads.CheckSuite("octo/app", "main", Payloads.Sha(1), Payloads.Sha(2)), ChainEffect.None, false },
    };

    [Theory]
    [MemberData(nameof(Events))]
    public void The_reader_decides_what_an_event_does_to_its_ref(string eventType, string json, ChainEffect chain, bool teardown)
    {
        var e = Read(eventType, json);

        Assert.Equal((ForgeNames.GitHub, new EventMeaning(chain, teardown)), (e.Forge, e.Meaning));
        Assert.Equal(chain is ChainEffect.Moves or ChainEffect.Ends, e.MovesChain);
    }

    [Fact]
    public void A_rerun_takes_no_place_in_the_chain_whatever_its_event_means()
    {
        var push = Read("push", Payloads.Push("octo/app", "refs/heads/main", Payloads.Sha(1), Payloads.Sha(2)));

        Assert.False((push with { RerunOf = "d-0" }).MovesChain);
        Assert.Equal("last", CiTrigger.Grains.Processing.QueueOrder.AdvanceChain("last", push with { RerunOf = "d-0" }));
        Assert.Equal(Payloads.Sha(2), CiTrigger.Grains.Processing.QueueOrder.AdvanceChain("last", push));
    }
}

using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Processing;
using CiTrigger.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>
/// Events stored before they carried their forge and meaning (Fixtures/stored) read as they did: GitHub's, under the
/// same keys, chaining and tearing down as the code of that time decided from their event names.
/// </summary>
public sealed class StoredEventTests : IDisposable
{
    private const string Last = "last-applied";

    private readonly ServiceProvider services = new ServiceCollection().AddSerializer().BuildServiceProvider();

    public void Dispose() => services.Dispose();

    private Dictionary<string, HookEvent> Stored()
    {
        var text = File.ReadAllText(Path.Combine(Payloads.FixturesRoot, "stored", "hook-events-before-forge.b64"));
        var events = services.GetRequiredService<Serializer>().Deserialize<HookEvent[]>(Convert.FromBase64String(text))!;
        return events.ToDictionary(e => e.Delivery);
    }

    /// <summary>What the code before forges answered for each stored event (recorded at e73d63b).</summary>
    [Theory]
    [InlineData("push-moves", true, true, false, "2", "octo/app:refs/heads/main")]
    [InlineData("push-deletes", true, true, true, "", "octo/app:refs/heads/main")]
    [InlineData("delete", false, false, true, "", "octo/app:refs/heads/main")]
    [InlineData("pr-sync", true, true, false, "3", "octo/app:refs/pull/4/head")]
    [InlineData("pr-closed", true, false, true, "", "octo/app:refs/pull/4/head")]
    [InlineData("pr-label", false, false, false, Last, "octo/app:refs/pull/4/head")]
    [InlineData("comment", false, false, false, Last, "octo/app:refs/pull/4/head")]
    [InlineData("check-run", false, false, false, Last, "octo/app:refs/heads/main")]
    [InlineData("check-suite", false, false, false, Last, "octo/app:refs/heads/main")]
    [InlineData("push-moves-rerun-1", false, false, false, Last, "octo/app:refs/heads/main")]
    public void An_event_stored_before_forges_chains_and_tears_down_as_before(
        string delivery, bool movesChain, bool continuesChain, bool teardown, string after, string key)
    {
        var e = Stored()[delivery];

        Assert.Equal((movesChain, continuesChain, teardown), (e.MovesChain, e.ContinuesChain, e.Meaning.Teardown));
        Assert.Equal(after is Last or "" ? after : Payloads.Sha(int.Parse(after, System.Globalization.CultureInfo.InvariantCulture)), QueueOrder.AdvanceChain(Last, e));
        Assert.Equal((ForgeNames.GitHub, key), (e.Forge, e.Key));
    }

    [Fact]
    public void A_stored_event_keeps_the_fields_it_was_stored_with()
    {
        var e = Stored()["check-run"];

        Assert.Equal(("check_run", "rerequested", "Octo/App", Payloads.Sha(2), 7L), (e.EventType, e.Action, e.Repository, e.Revision, e.InstallationId));
    }

    [Fact]
    public void An_event_with_its_forge_and_meaning_reads_them_back_after_storage()
    {
        var serializer = services.GetRequiredService<Serializer>();
        var e = HookEvents.Push(1) with { Forge = "gitlab", Meaning = EventMeaning.Ends };

        var back = serializer.Deserialize<HookEvent>(serializer.SerializeToArray(e))!;

        Assert.Equal(("gitlab", EventMeaning.Ends, "gitlab:octo/app:refs/heads/main"), (back.Forge, back.Meaning, back.Key));
        Assert.Equal(e, back);
    }
}

using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Storage;
using Xunit;

namespace CiTrigger.Tests.Unit.Catalog;

/// <summary>Ref summaries, deliveries, manifests and unfinished runs; and that all of it outlives the catalog that wrote it.</summary>
public abstract partial class CatalogContract
{
    [Fact]
    public async Task Refs_are_listed_by_key_in_their_latest_summary_filtered_by_repository_and_state_and_paged()
    {
        var catalog = await OpenAsync();
        await catalog.RecordRefAsync(Summary("octo/app", "refs/heads/main", RefSummary.Idle));
        await catalog.RecordRefAsync(Summary("octo/lib", "refs/heads/main", RefSummary.Retrying, queue: 1));
        await catalog.RecordRefAsync(Summary("octo/app", "refs/heads/dev", RefSummary.Pending, queue: 2));
        await catalog.RecordRefAsync(Summary("octo/app", "refs/heads/main", RefSummary.FailedState));

        var all = await catalog.ListAsync(new RefQuery(null, null, 10, null));
        var app = await catalog.ListAsync(new RefQuery(null, "OCTO/App", 10, null));
        var failing = await catalog.ListAsync(new RefQuery(RefStates.Failing, null, 10, null));
        var pending = await catalog.ListAsync(new RefQuery(RefStates.Pending, null, 10, null));
        var first = await catalog.ListAsync(new RefQuery(null, null, 2, null));
        var second = await catalog.ListAsync(new RefQuery(null, null, 2, first.Next));

        Assert.Equal(["octo/app:refs/heads/dev", "octo/app:refs/heads/main", "octo/lib:refs/heads/main"], all.Refs.Select(r => r.Key));
        Assert.Equal((RefSummary.FailedState, (string?)null), (all.Refs[1].State, all.Next));
        Assert.Equal(["octo/app:refs/heads/dev", "octo/app:refs/heads/main"], app.Refs.Select(r => r.Key));
        Assert.Equal(["octo/app:refs/heads/main", "octo/lib:refs/heads/main"], failing.Refs.Select(r => r.Key));
        Assert.Equal(["octo/app:refs/heads/dev", "octo/lib:refs/heads/main"], pending.Refs.Select(r => r.Key));
        Assert.Equal((2, "octo/app:refs/heads/main"), (first.Refs.Count, first.Next));
        Assert.Equal(("octo/lib:refs/heads/main", (string?)null), (Assert.Single(second.Refs).Key, second.Next));
    }

    [Fact]
    public async Task A_delivery_is_found_with_its_ref_until_it_is_forgotten()
    {
        var catalog = await OpenAsync();
        await catalog.RecordDeliveryAsync("d1", "octo/app:refs/heads/main", Start);
        await catalog.RecordDeliveryAsync("d2", "octo/app:refs/heads/dev", Start);
        await catalog.ForgetDeliveryAsync("d2");
        await catalog.ForgetDeliveryAsync("never-recorded");

        Assert.Equal("octo/app:refs/heads/main", await catalog.FindDeliveryAsync("d1"));
        Assert.Null(await catalog.FindDeliveryAsync("d2"));
        Assert.Null(await catalog.FindDeliveryAsync("unknown"));
    }

    [Fact]
    public async Task A_manifest_is_kept_per_delivery_and_recording_it_again_replaces_it()
    {
        var catalog = await OpenAsync();
        await catalog.RecordManifestAsync("d1", "kind: Workflow\n");
        await catalog.RecordManifestAsync("d2", "first");
        await catalog.RecordManifestAsync("d2", "second");

        Assert.Equal("kind: Workflow\n", await catalog.FindManifestAsync("d1"));
        Assert.Equal("second", await catalog.FindManifestAsync("d2"));
        Assert.Null(await catalog.FindManifestAsync("unknown"));
    }

    [Fact]
    public async Task Runs_are_listed_with_their_ref_until_forgotten_and_recording_one_again_keeps_its_start()
    {
        var catalog = await OpenAsync();
        Assert.Empty(await catalog.ListRunningAsync());
        await catalog.RecordRunningAsync("d2", "octo/app:refs/heads/main", Start);
        await catalog.RecordRunningAsync("d1", "octo/app:refs/pull/7/head", Start.AddMinutes(1));
        await catalog.RecordRunningAsync("d2", "octo/app:refs/heads/main", Start.AddHours(1));
        await catalog.RecordRunningAsync("d3", "octo/lib:refs/heads/dev", Start);
        await catalog.ForgetRunningAsync("d3");
        await catalog.ForgetRunningAsync("never-recorded");

        Assert.Equal(
            [new RunningRun("d1", "octo/app:refs/pull/7/head", Start.AddMinutes(1)), new RunningRun("d2", "octo/app:refs/heads/main", Start)],
            await catalog.ListRunningAsync());
    }

    [Fact]
    public async Task What_was_recorded_is_read_back_by_a_catalog_opened_again_on_the_same_store()
    {
        var writer = await OpenAsync();
        await writer.RecordRefAsync(Summary("octo/app", "refs/heads/main", RefSummary.Idle));
        await writer.RecordDeliveryAsync("d1", "octo/app:refs/heads/main", Start);
        await writer.RecordManifestAsync("d1", "kind: Workflow\n");
        await writer.RecordEventsAsync([Line(1)]);
        await writer.RecordRunningAsync("d1", "octo/app:refs/heads/main", Start);

        var reader = await OpenAsync();

        Assert.True(await reader.PingAsync(TestContext.Current.CancellationToken));
        Assert.Equal("octo/app:refs/heads/main", Assert.Single((await reader.ListAsync(new RefQuery(null, null, 10, null))).Refs).Key);
        Assert.Equal("octo/app:refs/heads/main", await reader.FindDeliveryAsync("d1"));
        Assert.Equal("kind: Workflow\n", await reader.FindManifestAsync("d1"));
        Assert.Equal(Line(1), Assert.Single((await reader.ListEventsAsync(new EventQuery(null, null, null, 10, null))).Events));
        Assert.Equal([new RunningRun("d1", "octo/app:refs/heads/main", Start)], await reader.ListRunningAsync());
    }
}

using System.Text;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class ParsedManifestCacheTests
{
    private static readonly byte[] Manifest = Encoding.UTF8.GetBytes("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n");

    [Fact]
    public async Task A_blob_is_read_once_however_many_ask_at_once_a_failed_read_is_tried_again_and_a_bad_one_is_remembered()
    {
        var cache = new ParsedManifestCache();
        var gate = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        var fetches = 0;
        Task<byte[]> Fetch(CancellationToken _)
        {
            Interlocked.Increment(ref fetches);
            return gate.Task;
        }

        var waiting = Enumerable.Range(0, 10).Select(_ => cache.ReadPipelineAsync("b1", ManifestLimits.Default, Fetch, CancellationToken.None)).ToList();
        gate.SetResult(Manifest);
        var read = await Task.WhenAll(waiting);

        Assert.Equal(1, fetches);
        Assert.All(read, r => Assert.Same(read[0].Documents, r.Documents));
        Assert.Same(read[0].Documents, (await cache.ReadPipelineAsync("b1", ManifestLimits.Default, Fetch, CancellationToken.None)).Documents);
        Assert.Equal(1, fetches);

        // A fetch that fails is not remembered; a file that does not parse is.
        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.ReadPipelineAsync("b2", ManifestLimits.Default, _ => throw new InvalidOperationException("503"), CancellationToken.None));
        var bad = 0;
        for (var i = 0; i < 2; i++)
        {
            var refused = await Assert.ThrowsAsync<ManifestException>(() => cache.ReadPipelineAsync("b2", ManifestLimits.Default, _ =>
            {
                bad++;
                return Task.FromResult("a: [unclosed"u8.ToArray());
            }, CancellationToken.None));
            Assert.NotEmpty(refused.Message);
        }

        Assert.Equal(1, bad);
    }

    [Fact]
    public void The_same_bytes_are_parsed_once()
    {
        var cache = new ParsedManifestCache();

        var first = cache.Read(Manifest, ManifestLimits.Default);
        var second = cache.Read([.. Manifest], ManifestLimits.Default);

        Assert.Same(first, second);
    }

    [Fact]
    public void Different_bytes_or_tighter_limits_are_parsed_afresh_and_still_refused()
    {
        var cache = new ParsedManifestCache();
        var accepted = cache.Read(Manifest, ManifestLimits.Default);

        var other = cache.Read(Encoding.UTF8.GetBytes("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"), ManifestLimits.Default);

        Assert.NotSame(accepted, other);
        Assert.Equal("b", other[0]["metadata"]!["name"]!.GetValue<string>());
        Assert.Throws<ManifestException>(() => cache.Read(Manifest, ManifestLimits.Default with { MaxNodes = 3 }));
    }

    [Fact]
    public void The_cache_stays_within_its_capacity()
    {
        var cache = new ParsedManifestCache(capacity: 4);

        for (var i = 0; i < 10; i++)
        {
            cache.Read(Encoding.UTF8.GetBytes($"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n"), ManifestLimits.Default);
        }

        Assert.InRange(cache.Count, 1, 4);
    }
}

using System.Text;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class ParsedManifestCacheTests
{
    private static readonly byte[] Manifest = Encoding.UTF8.GetBytes("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n");

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

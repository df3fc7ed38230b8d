using CiTrigger.Grains.Storage;
using CiTrigger.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>
/// <c>Storage:Provider</c> apart from <c>Orleans:Clustering</c>: unset, it means what the clustering meant before
/// the key existed; set, it is refused where a ref's state could stay behind on a silo that left.
/// </summary>
public class StorageChoiceTests
{
    private static (string? Backend, IReadOnlyList<string> Failures) Choose(string? clustering, string? provider, string? redis = "127.0.0.1:6379")
    {
        var settings = new Dictionary<string, string?>
        {
            ["Orleans:Clustering"] = clustering,
            ["Storage:Provider"] = provider,
            ["ConnectionStrings:Redis"] = redis,
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings.Where(kv => kv.Value is not null)).Build();
        var orleans = configuration.GetSection(OrleansOptions.Section).Get<OrleansOptions>() ?? new OrleansOptions();
        var storage = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
        var (backend, failures) = StorageChoice.Choose(orleans, storage, new StorageContext(configuration, orleans.DataPath));
        return (backend?.Name, failures);
    }

    [Theory]
    [InlineData(null, "Sqlite")]
    [InlineData("Localhost", "Sqlite")]
    [InlineData("localhost", "Sqlite")]
    [InlineData("Redis", "Redis")]
    [InlineData("REDIS", "Redis")]
    public void Without_the_key_storage_is_what_the_clustering_chose_before_it_existed(string? clustering, string expected)
    {
        foreach (var provider in new[] { null, "", "  " })
        {
            var (backend, failures) = Choose(clustering, provider);

            Assert.Equal(expected, backend);
            Assert.Empty(failures);
        }
    }

    [Theory]
    [InlineData(null, "Sqlite", "Sqlite")]
    [InlineData("Localhost", "redis", "Redis")]
    [InlineData("Redis", "Redis", "Redis")]
    public void A_named_provider_that_fits_the_clustering_is_used_whatever_its_case(string? clustering, string provider, string expected)
    {
        var (backend, failures) = Choose(clustering, provider);

        Assert.Equal(expected, backend);
        Assert.Empty(failures);
    }

    [Fact]
    public void Clustering_through_redis_with_state_in_one_silos_sqlite_file_is_refused_in_one_line_naming_the_key()
    {
        var (_, failures) = Choose("Redis", "Sqlite");

        Assert.Equal(
            "Storage:Provider: Sqlite keeps grain state on one silo's disk and cannot serve Orleans:Clustering=Redis, where refs move between silos; use Storage:Provider=Redis",
            Assert.Single(failures));
    }

    /// <summary>The known ones are read from the table, so a new backend is named here without a change to this test.</summary>
    [Fact]
    public void An_unknown_provider_is_refused_with_the_known_ones()
    {
        var (backend, failures) = Choose("Localhost", "Floppy");

        Assert.Null(backend);
        Assert.StartsWith("Storage:Provider: 'Floppy' is not one of Sqlite, Redis", Assert.Single(failures), StringComparison.Ordinal);
        Assert.Equal($"Storage:Provider: 'Floppy' is not one of {string.Join(", ", StorageBackends.All.Select(b => b.Name))}", failures[0]);
    }

    [Fact]
    public void Redis_storage_for_a_single_silo_needs_the_redis_connection_string()
    {
        var (backend, failures) = Choose("Localhost", "Redis", redis: null);

        Assert.Equal("Redis", backend);
        Assert.Equal("ConnectionStrings:Redis: required when Storage:Provider=Redis", Assert.Single(failures));
    }
}

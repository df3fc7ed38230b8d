using System.Text;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class LocalManifestSourceTests
{
    private readonly string directory = Directory.CreateTempSubdirectory("local-manifests-").FullName;

    private LocalManifestSource Source(int maxBytes = 1024) =>
        new(Options.Create(new ManifestOptions { LocalManifests = directory, MaxManifestBytes = maxBytes }), NullLogger<LocalManifestSource>.Instance);

    private static Task<byte[]> Read(LocalManifestSource source, string path) =>
        source.GetAsync(new ManifestFile(ForgeNames.GitHub, "octo/app", path, "0123456789abcdef0123456789abcdef01234567", null), TestContext.Current.CancellationToken);

    [Fact]
    public async Task Every_forge_repository_and_revision_reads_the_same_file_under_the_directory()
    {
        Directory.CreateDirectory(Path.Combine(directory, ".ci"));
        await File.WriteAllTextAsync(Path.Combine(directory, ".ci", "workflow.yaml"), "kind: Workflow\n", TestContext.Current.CancellationToken);
        var source = Source();

        var first = await Read(source, ".ci/workflow.yaml");
        var other = await source.GetAsync(new ManifestFile("gitlab", "someone/else", ".ci/workflow.yaml", "refs/heads/x", 42), TestContext.Current.CancellationToken);

        Assert.Equal("kind: Workflow\n", Encoding.UTF8.GetString(first));
        Assert.Equal(first, other);
    }

    [Fact]
    public async Task A_missing_file_is_a_permanent_failure_that_names_the_directory_and_the_key()
    {
        var failure = await Assert.ThrowsAsync<ManifestException>(() => Read(Source(), "nothing/here.yaml"));

        Assert.Contains($"nothing/here.yaml was not found in the local manifest directory {directory}", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Handler:LocalManifests", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../outside.yaml")]
    [InlineData("a/../../outside.yaml")]
    [InlineData("/etc/hostname")]
    public async Task A_path_that_leads_outside_the_directory_is_refused_without_reading_it(string path)
    {
        var failure = await Assert.ThrowsAsync<ManifestException>(() => Read(Source(), path));

        Assert.Contains("leads outside the local manifest directory", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_over_the_manifest_limit_is_refused_by_its_size()
    {
        await File.WriteAllTextAsync(Path.Combine(directory, "big.yaml"), new string('a', 2000), TestContext.Current.CancellationToken);

        var failure = await Assert.ThrowsAsync<ManifestException>(() => Read(Source(maxBytes: 1000), "big.yaml"));

        Assert.Contains("more than the limit of 1000", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_that_does_not_exist_is_a_configuration_error_naming_the_key()
    {
        var options = new ManifestOptions { LocalManifests = Path.Combine(directory, "missing") };

        var error = Assert.Single(options.Validate());

        Assert.StartsWith("Handler:LocalManifests: ", error, StringComparison.Ordinal);
        Assert.Contains("is not a directory", error, StringComparison.Ordinal);
    }
}

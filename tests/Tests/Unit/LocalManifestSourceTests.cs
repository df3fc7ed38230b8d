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

    private static ManifestFile InRepository(string path) =>
        new(ForgeNames.GitHub, "octo/app", path, "0123456789abcdef0123456789abcdef01234567", null);

    /// <summary>What <c>git hash-object</c> prints for the bytes, by git's formula.</summary>
    private static string HashObject(byte[] content) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {content.Length}\0"), .. content]));

    [Fact]
    public async Task A_directory_lists_its_regular_files_with_the_blob_ids_git_gives_them()
    {
        var ci = Directory.CreateDirectory(Path.Combine(directory, ".ci")).FullName;
        await File.WriteAllTextAsync(Path.Combine(ci, "build.yaml"), "kind: Build\n", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(ci, "hello.txt"), "hello\n", TestContext.Current.CancellationToken);
        Directory.CreateDirectory(Path.Combine(ci, "nested"));
        await File.WriteAllTextAsync(Path.Combine(ci, "nested", "deep.yaml"), "kind: Deep\n", TestContext.Current.CancellationToken);
        File.CreateSymbolicLink(Path.Combine(ci, "link.yaml"), Path.Combine(ci, "build.yaml"));

        var files = await Source().ListAsync(InRepository(".ci"), TestContext.Current.CancellationToken);

        Assert.NotNull(files);
        Assert.Equal(["build.yaml", "hello.txt"], files.Select(f => f.Name));
        Assert.Equal([".ci/build.yaml", ".ci/hello.txt"], files.Select(f => f.Path));
        Assert.Equal(HashObject("kind: Build\n"u8.ToArray()), files[0].BlobSha);
        Assert.Equal("ce013625030ba8dba906f756967f9e9ca394464a", files[1].BlobSha);
        Assert.Equal(6, files[1].Size);
    }

    [Fact]
    public async Task A_listed_blob_is_read_by_its_id_and_one_no_listing_had_is_looked_for_in_the_files_directory()
    {
        var ci = Directory.CreateDirectory(Path.Combine(directory, ".ci")).FullName;
        await File.WriteAllTextAsync(Path.Combine(ci, "build.yaml"), "kind: Build\n", TestContext.Current.CancellationToken);
        var source = Source();
        var build = Assert.Single((await source.ListAsync(InRepository(".ci"), TestContext.Current.CancellationToken))!);

        var read = await source.GetBlobAsync(InRepository(build.Path), build.BlobSha, TestContext.Current.CancellationToken);
        var fresh = await Source().GetBlobAsync(InRepository(".ci/build.yaml"), build.BlobSha, TestContext.Current.CancellationToken);

        Assert.Equal("kind: Build\n", Encoding.UTF8.GetString(read));
        Assert.Equal(read, fresh);
    }

    [Fact]
    public async Task A_blob_that_changed_or_was_never_there_is_refused()
    {
        var ci = Directory.CreateDirectory(Path.Combine(directory, ".ci")).FullName;
        var path = Path.Combine(ci, "build.yaml");
        await File.WriteAllTextAsync(path, "kind: Build\n", TestContext.Current.CancellationToken);
        var source = Source();
        var build = Assert.Single((await source.ListAsync(InRepository(".ci"), TestContext.Current.CancellationToken))!);
        await File.WriteAllTextAsync(path, "kind: Changed\n", TestContext.Current.CancellationToken);

        var changed = await Assert.ThrowsAsync<ManifestException>(() => source.GetBlobAsync(InRepository(build.Path), build.BlobSha, TestContext.Current.CancellationToken));
        var malformed = await Assert.ThrowsAsync<ManifestException>(() => source.GetBlobAsync(InRepository(build.Path), "../build.yaml", TestContext.Current.CancellationToken));

        Assert.Contains($"no file with the blob id {build.BlobSha}", changed.Message, StringComparison.Ordinal);
        Assert.Contains("is not a git blob id", malformed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_blob_over_the_manifest_limit_is_listed_but_not_read()
    {
        var ci = Directory.CreateDirectory(Path.Combine(directory, ".ci")).FullName;
        var content = Encoding.UTF8.GetBytes(new string('a', 2000));
        await File.WriteAllBytesAsync(Path.Combine(ci, "big.yaml"), content, TestContext.Current.CancellationToken);
        var source = Source(maxBytes: 1000);
        var big = Assert.Single((await source.ListAsync(InRepository(".ci"), TestContext.Current.CancellationToken))!);

        var refusal = await Assert.ThrowsAsync<ManifestException>(() => source.GetBlobAsync(InRepository(big.Path), big.BlobSha, TestContext.Current.CancellationToken));

        Assert.Equal(HashObject(content), big.BlobSha);
        Assert.Contains("more than the limit of 1000", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_directory_is_null_a_file_is_no_directory_and_outside_is_refused()
    {
        await File.WriteAllTextAsync(Path.Combine(directory, "file.yaml"), "x", TestContext.Current.CancellationToken);
        var source = Source();

        Assert.Null(await source.ListAsync(InRepository(".ci"), TestContext.Current.CancellationToken));
        var file = await Assert.ThrowsAsync<ManifestException>(() => source.ListAsync(InRepository("file.yaml"), TestContext.Current.CancellationToken));
        var outside = await Assert.ThrowsAsync<ManifestException>(() => source.ListAsync(InRepository(".."), TestContext.Current.CancellationToken));

        Assert.Contains("is a file, not a directory", file.Message, StringComparison.Ordinal);
        Assert.Contains("leads outside the local manifest directory", outside.Message, StringComparison.Ordinal);
        Assert.Equal(["file.yaml"], (await source.ListAsync(InRepository(""), TestContext.Current.CancellationToken))!.Select(f => f.Path));
    }
}

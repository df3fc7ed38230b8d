using System.Text;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.GitHub;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xunit;

namespace CiTrigger.Tests.GitHubApp;

/// <summary>
/// A pipeline directory listed and its files read by blob id through the fake GitHub over HTTP, as the service's
/// Octokit client asks for them; and an event's changed files from the compare and pull request files APIs,
/// unknown where GitHub's lists stop short or GitHub keeps failing.
/// </summary>
public sealed class PipelineFilesTests : IAsyncLifetime
{
    private const string Repository = "octo/pipelines";
    private const int MaxBytes = 4096;

    // The client's own response limit is the service's Handler:MaxManifestBytes; larger here, so that a page of
    // changed files fits while a blob is held to MaxBytes.
    private const int MaxResponseBytes = 1 << 20;
    private FakeGitHubApi github = null!;
    private FakeGitHubApi.Repository repo = null!;
    private GitHubAccess access = null!;
    private readonly ListLogger<GitHubChangedFiles> log = new();

    public async ValueTask InitializeAsync()
    {
        github = await FakeGitHubApi.StartAsync();
        repo = github.Repo(Repository);
        var options = new GitHubOptions { BaseUrl = github.BaseAddress.ToString() };
        access = new GitHubAccess(GitHubClientFactory.Create(options, FakeGitHubApi.Token, MaxResponseBytes), TimeProvider.System);
    }

    public async ValueTask DisposeAsync() => await github.DisposeAsync();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private GitHubManifestSource Source() =>
        new(access, Options.Create(new ManifestOptions { MaxManifestBytes = MaxBytes }));

    private GitHubChangedFiles Changes() =>
        new(access, new RetryPolicy(5, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5), new Random(1)), TimeProvider.System, log);

    private static ManifestFile At(string path, string revision) => new(ForgeNames.GitHub, Repository, path, revision, null);

    [Fact]
    public async Task A_directory_lists_its_files_with_their_git_blob_ids_and_each_is_read_by_its_id()
    {
        var commit = repo.CommitFiles("main", new Dictionary<string, string>
        {
            [".ci/build.yaml"] = "kind: Build\n",
            [".ci/test.yml"] = "kind: Test\n",
            [".ci/README.md"] = "hello\n",
            [".ci/nested/deep.yaml"] = "kind: Deep\n",
            ["src/app.cs"] = "class App;\n",
        });
        var source = Source();

        var files = await source.ListAsync(At(".ci", commit), Ct);

        Assert.NotNull(files);
        Assert.Equal(["README.md", "build.yaml", "test.yml"], files.Select(f => f.Name));
        Assert.Equal([".ci/README.md", ".ci/build.yaml", ".ci/test.yml"], files.Select(f => f.Path));
        var readme = files[0];
        Assert.Equal("ce013625030ba8dba906f756967f9e9ca394464a", readme.BlobSha);
        Assert.Equal(6, readme.Size);
        Assert.Equal(GitBlobId.Of("kind: Build\n"u8), files[1].BlobSha);
        Assert.Single(github.ContentRequests);

        var build = await source.GetBlobAsync(At(files[1].Path, commit), files[1].BlobSha, Ct);

        Assert.Equal("kind: Build\n", Encoding.UTF8.GetString(build));
        var blob = Assert.Single(github.BlobRequests);
        Assert.Equal($"/api/v3/repos/{Repository}/git/blobs/{files[1].BlobSha}", blob.Path);
    }

    [Fact]
    public async Task A_directory_missing_at_the_revision_is_null_and_a_file_in_its_place_is_refused()
    {
        var commit = repo.CommitFiles("main", new Dictionary<string, string> { [".ci"] = "not a directory", ["other/x.yaml"] = "x" });
        var source = Source();

        Assert.Null(await source.ListAsync(At("pipelines", commit), Ct));
        var file = await Assert.ThrowsAsync<ManifestException>(() => source.ListAsync(At(".ci", commit), Ct));

        Assert.Equal($".ci in {Repository} at {commit} is a file, not a directory", file.Message);
    }

    [Fact]
    public async Task An_unknown_revision_is_refused_rather_than_taken_for_a_missing_directory()
    {
        repo.CommitFiles("main", new Dictionary<string, string> { [".ci/a.yaml"] = "a" });

        var refusal = await Assert.ThrowsAsync<ManifestException>(() => Source().ListAsync(At(".ci", "no-such-branch"), Ct));

        Assert.Equal($"no-such-branch was not found in {Repository}", refusal.Message);
    }

    [Fact]
    public async Task A_branch_whose_name_needs_escaping_is_listed_at_that_branch()
    {
        repo.CommitFiles("main", new Dictionary<string, string> { [".ci/main.yaml"] = "main" });
        repo.CommitFiles("a+b", new Dictionary<string, string> { [".ci/plus.yaml"] = "plus" });

        var files = await Source().ListAsync(At(".ci", "a+b"), Ct);

        Assert.Equal("plus.yaml", Assert.Single(files!).Name);
        Assert.Equal("a+b", Assert.Single(github.ContentRequests).Ref);
    }

    [Fact]
    public async Task A_blob_over_the_manifest_limit_is_refused()
    {
        var commit = repo.CommitFiles("main", new Dictionary<string, string> { [".ci/big.yaml"] = new string('a', MaxBytes + 1) });
        var source = Source();
        var big = Assert.Single((await source.ListAsync(At(".ci", commit), Ct))!);

        var refusal = await Assert.ThrowsAsync<ManifestException>(() => source.GetBlobAsync(At(big.Path, commit), big.BlobSha, Ct));

        Assert.Contains("more than", refusal.Message, StringComparison.Ordinal);
        Assert.Contains(MaxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_or_unknown_blob_id_is_refused()
    {
        var source = Source();

        var malformed = await Assert.ThrowsAsync<ManifestException>(() => source.GetBlobAsync(At(".ci/x.yaml", "main"), "../contents/x", Ct));
        var unknown = await Assert.ThrowsAsync<ManifestException>(() => source.GetBlobAsync(At(".ci/x.yaml", "main"), new string('a', 40), Ct));

        Assert.Contains("is not a git blob id", malformed.Message, StringComparison.Ordinal);
        Assert.Contains("was not found", unknown.Message, StringComparison.Ordinal);
        Assert.Single(github.BlobRequests);
    }

    [Fact]
    public async Task The_files_between_two_commits_are_the_comparisons_renames_counting_both_names()
    {
        var before = repo.Commit("main", "a", "1");
        var after = repo.Commit("main", "a", "2");
        repo.Comparisons[(before, after)] = new FakeGitHubApi.Comparison(
            [new("src/a.cs"), new("docs/new.md", "renamed", "docs/old.md"), new("gone.txt", "removed")], Commits: 3);

        var files = await Changes().BetweenAsync(ForgeNames.GitHub, Repository, null, before, after, Ct);

        Assert.Equal(["src/a.cs", "docs/new.md", "docs/old.md", "gone.txt"], files);
        Assert.Equal($"/api/v3/repos/{Repository}/compare/{before}...{after}", Assert.Single(github.CompareRequests).Path);
    }

    [Fact]
    public async Task A_comparison_of_300_files_or_without_its_files_is_unknown()
    {
        var before = repo.Commit("main", "a", "1");
        var after = repo.Commit("main", "a", "2");
        var later = repo.Commit("main", "a", "3");
        repo.SetChanges(before, after, Enumerable.Range(0, 299).Select(i => $"f{i}"));
        repo.SetChanges(after, later, Enumerable.Range(0, 450).Select(i => $"f{i}"));
        repo.Comparisons[(before, later)] = new FakeGitHubApi.Comparison([new("a")], FilesOmitted: true);
        var changes = Changes();

        Assert.Equal(299, (await changes.BetweenAsync(ForgeNames.GitHub, Repository, null, before, after, Ct))!.Count);
        Assert.Null(await changes.BetweenAsync(ForgeNames.GitHub, Repository, null, after, later, Ct));
        Assert.Null(await changes.BetweenAsync(ForgeNames.GitHub, Repository, null, before, later, Ct));
        Assert.Empty(log.Entries);
    }

    [Fact]
    public async Task A_pull_requests_files_are_read_page_by_page()
    {
        repo.SetPullRequestFiles(7, Enumerable.Range(0, 250).Select(i => $"src/f{i:D3}.cs"));

        var files = await Changes().OfPullRequestAsync(ForgeNames.GitHub, Repository, null, 7, Ct);

        Assert.Equal(Enumerable.Range(0, 250).Select(i => $"src/f{i:D3}.cs"), files);
        Assert.Equal(3, github.PullRequestFileRequests.Count);
        Assert.All(github.PullRequestFileRequests, r => Assert.Contains("per_page=100", r.Query, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_pull_request_of_3000_files_is_unknown()
    {
        repo.SetPullRequestFiles(8, Enumerable.Range(0, 3_500).Select(i => $"f{i}"));
        repo.SetPullRequestFiles(9, Enumerable.Range(0, 2_999).Select(i => $"f{i}"));
        var changes = Changes();

        Assert.Null(await changes.OfPullRequestAsync(ForgeNames.GitHub, Repository, null, 8, Ct));
        Assert.Equal(30, github.PullRequestFileRequests.Count);
        Assert.Equal(2_999, (await changes.OfPullRequestAsync(ForgeNames.GitHub, Repository, null, 9, Ct))!.Count);
    }

    [Fact]
    public async Task A_server_error_is_tried_again_and_a_lasting_one_leaves_the_files_unknown_with_a_warning()
    {
        var before = repo.Commit("main", "a", "1");
        var after = repo.Commit("main", "a", "2");
        repo.SetChanges(before, after, ["x.yaml"]);
        repo.SetPullRequestFiles(3, ["y.yaml"]);
        var changes = Changes();
        github.FailNext("/compare/");
        github.FailNext("/pulls/", 502);

        Assert.Equal(["x.yaml"], await changes.BetweenAsync(ForgeNames.GitHub, Repository, null, before, after, Ct));
        Assert.Equal(["y.yaml"], await changes.OfPullRequestAsync(ForgeNames.GitHub, Repository, null, 3, Ct));
        Assert.Empty(log.Entries);

        github.FailureRate = 1;
        Assert.Null(await changes.BetweenAsync(ForgeNames.GitHub, Repository, null, before, after, Ct));
        Assert.Null(await changes.OfPullRequestAsync(ForgeNames.GitHub, Repository, null, 3, Ct));

        // Reports' attempt limit (three) for each.
        Assert.Equal(2 + 3, github.CompareRequests.Count);
        Assert.Equal(2 + 3, github.PullRequestFileRequests.Count);
        Assert.Equal([58, 59], log.Entries.Select(e => e.EventId));
        Assert.All(log.Entries, e => Assert.Equal(LogLevel.Warning, e.Level));
    }

    [Fact]
    public async Task An_unknown_pull_request_or_commit_and_another_forge_are_unknown_without_retries()
    {
        var commit = repo.Commit("main", "a", "1");
        var changes = Changes();

        Assert.Null(await changes.OfPullRequestAsync(ForgeNames.GitHub, Repository, null, 404, Ct));
        Assert.Null(await changes.BetweenAsync(ForgeNames.GitHub, Repository, null, new string('b', 40), commit, Ct));
        Assert.Null(await changes.BetweenAsync("gitlab", Repository, null, commit, commit, Ct));
        Assert.Null(await changes.BetweenAsync(ForgeNames.GitHub, Repository, null, new string('0', 40), commit, Ct));

        Assert.Single(github.PullRequestFileRequests);
        Assert.Single(github.CompareRequests);
        Assert.Equal(2, log.Entries.Count);
    }
}

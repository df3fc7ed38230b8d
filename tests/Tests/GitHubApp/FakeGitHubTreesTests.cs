using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using Xunit;

namespace CiTrigger.Tests.GitHubApp;

/// <summary>
/// The fake GitHub's directories, blobs, comparisons and pull request files answer as GitHub's do, asked over
/// plain HTTP: the forms a client other than Octokit would meet.
/// </summary>
public sealed class FakeGitHubTreesTests : IAsyncLifetime
{
    private FakeGitHubApi github = null!;
    private FakeGitHubApi.Repository repo = null!;
    private HttpClient http = null!;
    private string commit = "";

    public async ValueTask InitializeAsync()
    {
        github = await FakeGitHubApi.StartAsync();
        repo = github.Repo("octo/trees");
        commit = repo.CommitFiles("main", new Dictionary<string, string>
        {
            [".ci/a.yaml"] = new string('x', 100),
            [".ci/sub/b.yaml"] = "b",
        });
        http = new HttpClient { BaseAddress = new Uri(github.BaseAddress, "api/v3/") };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("trees-test");
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("token", FakeGitHubApi.Token);
    }

    public async ValueTask DisposeAsync()
    {
        http.Dispose();
        await github.DisposeAsync();
    }

    private async Task<(int Status, JsonNode? Body, string? Link)> GetAsync(string path, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text),
            response.Headers.TryGetValues("Link", out var link) ? string.Join(", ", link) : null);
    }

    [Fact]
    public async Task A_directory_is_listed_in_json_even_for_a_raw_accept_header()
    {
        var (status, body, _) = await GetAsync($"repos/octo/trees/contents/.ci?ref={commit}", "application/vnd.github.raw");

        Assert.Equal(200, status);
        var entries = body!.AsArray().Select(e => e!.AsObject()).ToList();
        Assert.Equal(["file a.yaml", "dir sub"], entries.Select(e => $"{e["type"]} {e["name"]}"));
        var a = entries[0];
        Assert.Equal(FakeGitHubApi.BlobSha(Encoding.UTF8.GetBytes(new string('x', 100))), a["sha"]!.GetValue<string>());
        Assert.Equal(100, a["size"]!.GetValue<long>());
        Assert.All(["url", "html_url", "git_url", "download_url", "_links"], key => Assert.NotNull(a[key]));
    }

    [Fact]
    public async Task A_blob_is_base64_in_lines_of_60_or_raw_and_a_malformed_id_is_422()
    {
        var sha = FakeGitHubApi.BlobSha(Encoding.UTF8.GetBytes(new string('x', 100)));

        var (status, body, _) = await GetAsync($"repos/octo/trees/git/blobs/{sha}");
        using var raw = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"repos/octo/trees/git/blobs/{sha}")
        {
            Headers = { Accept = { MediaTypeWithQualityHeaderValue.Parse("application/vnd.github.raw") } },
        }, TestContext.Current.CancellationToken);

        Assert.Equal(200, status);
        var content = body!["content"]!.GetValue<string>();
        Assert.All(content.Split('\n', StringSplitOptions.RemoveEmptyEntries)[..^1], line => Assert.Equal(60, line.Length));
        Assert.Equal(new string('x', 100), Encoding.UTF8.GetString(Convert.FromBase64String(content)));
        Assert.Equal("base64", body["encoding"]!.GetValue<string>());
        Assert.Equal(100, body["size"]!.GetValue<int>());
        Assert.Equal(new string('x', 100), await raw.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(422, (await GetAsync("repos/octo/trees/git/blobs/XYZ")).Status);
        Assert.Equal(404, (await GetAsync($"repos/octo/trees/git/blobs/{new string('a', 40)}")).Status);
    }

    [Fact]
    public async Task Any_pipelines_are_listed_in_ci_of_any_repository_as_a_commit_of_them_is_and_their_blobs_read_by_id()
    {
        var files = new Dictionary<string, string> { [".ci/build.yaml"] = "kind: Build\n", [".ci/test.yaml"] = "kind: Test\n" };
        var same = github.Repo("octo/same").CommitFiles("main", files);
        var (_, committed, _) = await GetAsync($"repos/octo/same/contents/.ci?ref={same}");

        github.AnyPipelines = files.ToDictionary(f => f.Key[".ci/".Length..], f => Encoding.UTF8.GetBytes(f.Value));
        var (status, listed, _) = await GetAsync($"repos/someone/elsewhere/contents/.ci?ref={same}");
        var sha = FakeGitHubApi.BlobSha(Encoding.UTF8.GetBytes("kind: Test\n"));
        var (blobStatus, blob, _) = await GetAsync($"repos/someone/elsewhere/git/blobs/{sha}");
        var (unknownStatus, _, _) = await GetAsync($"repos/someone/elsewhere/git/blobs/{new string('a', 40)}");

        Assert.Equal(200, status);
        Assert.Equal(committed!.ToJsonString().Replace("octo/same", "someone/elsewhere", StringComparison.Ordinal), listed!.ToJsonString());
        Assert.Equal(200, blobStatus);
        Assert.Equal("kind: Test\n", Encoding.UTF8.GetString(Convert.FromBase64String(blob!["content"]!.GetValue<string>().Replace("\n", "", StringComparison.Ordinal))));
        Assert.Equal(404, unknownStatus);
    }

    [Fact]
    public async Task A_pull_requests_files_come_at_most_100_a_page_with_githubs_link_header()
    {
        repo.SetPullRequestFiles(5, Enumerable.Range(0, 250).Select(i => $"f{i}"));

        var (_, first, firstLink) = await GetAsync("repos/octo/trees/pulls/5/files?per_page=500");
        var (_, defaults, _) = await GetAsync("repos/octo/trees/pulls/5/files");
        var next = firstLink!.Split(", ")[0];
        var (_, second, secondLink) = await GetAsync(next[(next.IndexOf('<') + 1)..next.IndexOf('>')]);

        Assert.Equal(100, first!.AsArray().Count);
        Assert.Equal(30, defaults!.AsArray().Count);
        Assert.Equal(
            $"<{github.BaseAddress}api/v3/repositories/{repo.Id}/pulls/5/files?per_page=100&page=2>; rel=\"next\", " +
            $"<{github.BaseAddress}api/v3/repositories/{repo.Id}/pulls/5/files?per_page=100&page=3>; rel=\"last\"", firstLink);
        Assert.Equal("f100", second![0]!["filename"]!.GetValue<string>());
        Assert.Contains("rel=\"prev\"", secondLink, StringComparison.Ordinal);
        Assert.Contains("rel=\"first\"", secondLink, StringComparison.Ordinal);
        Assert.Equal(404, (await GetAsync("repos/octo/trees/pulls/6/files")).Status);
    }

    [Fact]
    public async Task A_comparison_lists_its_files_on_the_first_page_only_and_an_unknown_commit_is_404()
    {
        var before = repo.Commit("main", "x", "1");
        var after = repo.Commit("main", "x", "2");
        repo.SetChanges(before, after, Enumerable.Range(0, 400).Select(i => $"f{i}"), commits: 3);

        var (status, first, link) = await GetAsync($"repos/octo/trees/compare/{before}...{after}?per_page=1");
        var (_, second, _) = await GetAsync($"repos/octo/trees/compare/{before}...{after}?per_page=1&page=2");

        Assert.Equal(200, status);
        Assert.Equal(300, first!["files"]!.AsArray().Count);
        Assert.Equal(3, first["total_commits"]!.GetValue<int>());
        Assert.Single(first["commits"]!.AsArray());
        Assert.Contains("rel=\"next\"", link, StringComparison.Ordinal);
        Assert.Null(second!["files"]);
        Assert.Equal(404, (await GetAsync($"repos/octo/trees/compare/{new string('c', 40)}...{after}")).Status);
    }
}

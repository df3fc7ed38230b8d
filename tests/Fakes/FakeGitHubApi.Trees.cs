using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace CiTrigger.Tests.Fakes;

/// <summary>
/// A repository's trees and changes as GitHub serves them: the contents API on a directory (a JSON array of its
/// entries, whatever the Accept header asks), a blob by its git id (<c>GET /repos/{owner}/{repo}/git/blobs/{sha}</c>:
/// base64 in JSON with a newline every 60 characters, or the bytes for a raw media type; 422 for a malformed id, 404
/// for an unknown one), the comparison of two commits (<c>compare/{base}...{head}</c>: commits paged, the changed
/// files on the first page only and never more than 300) and a pull request's files (<c>pulls/{n}/files</c>: 30 a
/// page unless <c>per_page</c> asks for up to 100, a <c>Link</c> header in GitHub's form, at most 3,000 in all).
/// Blob ids are the real git blob ids of the bytes.
/// </summary>
public sealed partial class FakeGitHubApi
{
    /// <summary>The most files the compare API lists, for the whole comparison.</summary>
    public const int MaxCompareFiles = 300;

    /// <summary>The most files the pull request files API lists.</summary>
    public const int MaxPullRequestFiles = 3_000;

    private static readonly ConditionalWeakTable<byte[], string> BlobIds = new();

    private readonly ConcurrentQueue<(string PathPart, int Status)> injected = new();

    private AnyPipelineFiles? anyPipelines;

    /// <summary>
    /// When set (file name to bytes), the pipelines of <c>.ci</c> in any repository at any ref, for load runs as
    /// <see cref="AnyManifest"/> is: the contents API on <c>.ci</c> lists them as a directory of files whose blob ids are
    /// the bytes' git blob ids, and <c>git/blobs/{sha}</c> of any repository answers those blobs. The listing is
    /// serialized once when this is set; a request only puts its repository and ref into it.
    /// </summary>
    public IReadOnlyDictionary<string, byte[]>? AnyPipelines
    {
        get => anyPipelines?.Files;
        set => anyPipelines = value is null ? null : new AnyPipelineFiles(value, Listing(value));
    }

    /// <summary>Blob requests answered so far.</summary>
    public IReadOnlyList<RecordedGitHubRequest> BlobRequests =>
        [.. requests.Where(r => r.Path.Contains("/git/blobs/", StringComparison.Ordinal))];

    /// <summary>Comparison requests answered so far.</summary>
    public IReadOnlyList<RecordedGitHubRequest> CompareRequests =>
        [.. requests.Where(r => r.Path.Contains("/compare/", StringComparison.Ordinal))];

    /// <summary>Pull request files requests answered so far (each page one).</summary>
    public IReadOnlyList<RecordedGitHubRequest> PullRequestFileRequests =>
        [.. requests.Where(r => r.Path.Contains("/pulls/", StringComparison.Ordinal) && r.Path.EndsWith("/files", StringComparison.Ordinal))];

    /// <summary>The git blob id of <paramref name="content"/>: SHA-1 of <c>blob {length}\0</c> and the bytes, as <c>git hash-object</c> prints it.</summary>
    public static string BlobSha(byte[] content) => BlobIds.GetValue(content, bytes =>
    {
        var header = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"blob {bytes.Length}\0"));
        return Convert.ToHexStringLower(SHA1.HashData([.. header, .. bytes]));
    });

    /// <summary>
    /// The next request whose path contains <paramref name="pathPart"/> (<c>/compare/</c>, <c>/git/blobs/</c>…) is
    /// answered <paramref name="status"/>; called again, the one after it too, and so on.
    /// </summary>
    public void FailNext(string pathPart, int status = 500) => injected.Enqueue((pathPart, status));

    private Reply? TakeInjectedFailure(RecordedGitHubRequest r)
    {
        // One at a time: the queue's head is taken only by a request it matches.
        lock (injected)
        {
            return injected.TryPeek(out var next) && r.Path.Contains(next.PathPart, StringComparison.Ordinal) && injected.TryDequeue(out _)
                ? Error(next.Status, "Server Error")
                : null;
        }
    }

    /// <summary><c>repositories/{id}/…</c>, the form GitHub's Link headers use, as <c>repos/{owner}/{repo}/…</c>.</summary>
    private string? ByRepositoryId(string path)
    {
        var parts = path.Split('/', 3);
        return parts.Length == 3 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            && repositories.Values.FirstOrDefault(repo => repo.Id == id) is { } found
            ? $"repos/{found.FullName}/{parts[2]}"
            : null;
    }

    private Reply ListDirectory(Repository repo, string sha, string path)
    {
        var prefix = path.Length == 0 ? "" : path + "/";
        var below = repo.Files.Where(f => f.Key.Sha == sha && f.Key.Path.StartsWith(prefix, StringComparison.Ordinal) && f.Key.Path.Length > prefix.Length).ToList();
        if (below.Count == 0)
        {
            return Error(404, "Not Found");
        }

        var entries = new List<JsonNode>();
        foreach (var (key, content) in below.Where(f => !f.Key.Path[prefix.Length..].Contains('/', StringComparison.Ordinal)).OrderBy(f => f.Key.Path, StringComparer.Ordinal))
        {
            entries.Add(Entry(repo.FullName, sha, "file", key.Path, BlobSha(content), content.Length));
        }

        foreach (var directory in below.Select(f => f.Key.Path[prefix.Length..]).Where(p => p.Contains('/', StringComparison.Ordinal))
            .Select(p => prefix + p[..p.IndexOf('/', StringComparison.Ordinal)]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            entries.Add(Entry(repo.FullName, sha, "dir", directory, TreeSha(sha, directory), 0));
        }

        return Json(200, new JsonArray([.. entries.OrderBy(e => e["name"]!.GetValue<string>(), StringComparer.Ordinal)]));
    }

    // Stand-ins for the repository and the ref in the serialized listing of AnyPipelines: JSON leaves them as they are.
    private const string AnyRepository = "__any_repository__";
    private const string AnyRef = "__any_ref__";

    /// <summary>The JSON listing of <c>.ci</c> holding <paramref name="files"/>, with stand-ins for repository and ref.</summary>
    private string Listing(IReadOnlyDictionary<string, byte[]> files) =>
        new JsonArray([.. files.OrderBy(f => f.Key, StringComparer.Ordinal)
            .Select(f => (JsonNode)Entry(AnyRepository, AnyRef, "file", ".ci/" + f.Key, BlobSha(f.Value), f.Value.Length))]).ToJsonString();

    /// <summary>
    /// What <see cref="AnyPipelines"/> answers for a GET by anyone but an App's JWT (which reads no contents, as with
    /// <see cref="AnyManifest"/>): the listing of <c>.ci</c>, or one of its blobs; null for every other request.
    /// </summary>
    private Reply? AnyPipelineReply(RecordedGitHubRequest r, HttpRequest request, string[] parts, Caller caller)
    {
        if (anyPipelines is not { } any || r.Method != "GET" || caller is AppCaller)
        {
            return null;
        }

        if (parts is [var owner, var name, "contents", ".ci" or ".ci/"])
        {
            var gitRef = request.Query["ref"].ToString();
            var listing = any.Listing.Replace(AnyRepository, $"{owner}/{name}", StringComparison.Ordinal)
                .Replace(AnyRef, gitRef.Length == 0 ? "main" : Uri.EscapeDataString(gitRef), StringComparison.Ordinal);
            return new Reply(200, "application/json; charset=utf-8", Encoding.UTF8.GetBytes(listing));
        }

        return parts is [var blobOwner, var blobName, "git", var rest] && rest.StartsWith("blobs/", StringComparison.Ordinal)
            && any.Blobs.TryGetValue(rest["blobs/".Length..], out var blob)
            ? Blob(r, $"{blobOwner}/{blobName}", rest["blobs/".Length..], blob)
            : null;
    }

    /// <summary><see cref="AnyPipelines"/>' files, their blobs by id and the listing of <c>.ci</c> with stand-ins for repository and ref.</summary>
    private sealed class AnyPipelineFiles(IReadOnlyDictionary<string, byte[]> files, string listing)
    {
        public IReadOnlyDictionary<string, byte[]> Files { get; } = files;

        public Dictionary<string, byte[]> Blobs { get; } = files.Values.DistinctBy(BlobSha).ToDictionary(BlobSha, StringComparer.Ordinal);

        public string Listing { get; } = listing;
    }

    /// <summary>An entry of the contents API as GitHub writes it, links included.</summary>
    private JsonObject Entry(string repository, string commit, string type, string path, string sha, long size)
    {
        var escaped = string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
        var api = $"{BaseAddress}api/v3/repos/{repository}";
        var self = $"{api}/contents/{escaped}?ref={commit}";
        var git = type == "dir" ? $"{api}/git/trees/{sha}" : $"{api}/git/blobs/{sha}";
        var html = $"{BaseAddress}{repository}/{(type == "dir" ? "tree" : "blob")}/{commit}/{escaped}";
        return new JsonObject
        {
            ["name"] = path[(path.LastIndexOf('/') + 1)..],
            ["path"] = path,
            ["sha"] = sha,
            ["size"] = size,
            ["url"] = self,
            ["html_url"] = html,
            ["git_url"] = git,
            ["download_url"] = type == "dir" ? null : $"{BaseAddress}raw/{repository}/{commit}/{escaped}",
            ["type"] = type,
            ["_links"] = new JsonObject { ["self"] = self, ["git"] = git, ["html"] = html },
        };
    }

    private static string TreeSha(string commit, string path) =>
        Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes($"tree {commit} {path}")));

    private Reply GetBlob(RecordedGitHubRequest r, Repository repo, string rest)
    {
        if (rest.Split('/') is not ["blobs", var sha])
        {
            return Error(404, "Not Found");
        }

        if (sha.Length != 40 || !sha.All(char.IsAsciiHexDigitLower))
        {
            return Error(422, "The sha parameter must be exactly 40 characters and contain only [0-9a-f].");
        }

        return repo.Files.Values.FirstOrDefault(content => BlobSha(content) == sha) is { } blob
            ? Blob(r, repo.FullName, sha, blob)
            : Error(404, "Not Found");
    }

    /// <summary>A blob as GitHub answers it: its bytes for a raw media type, else base64 in JSON with a newline every 60 characters.</summary>
    private Reply Blob(RecordedGitHubRequest r, string repository, string sha, byte[] blob)
    {
        var raw = r.Accept.Split(',').Select(a => a.Split(';')[0].Trim())
            .FirstOrDefault(a => a is "application/vnd.github.v3.raw" or "application/vnd.github.raw" or "application/vnd.github.raw+json");
        if (raw is not null)
        {
            return new Reply(200, raw + "; charset=utf-8", blob);
        }

        var base64 = Convert.ToBase64String(blob);
        var lines = new StringBuilder();
        for (var i = 0; i < base64.Length; i += 60)
        {
            lines.Append(base64, i, Math.Min(60, base64.Length - i)).Append('\n');
        }

        return Json(200, new JsonObject
        {
            ["sha"] = sha,
            ["node_id"] = "B_" + Convert.ToBase64String(Encoding.ASCII.GetBytes(sha))[..20],
            ["size"] = blob.Length,
            ["url"] = $"{BaseAddress}api/v3/repos/{repository}/git/blobs/{sha}",
            ["content"] = lines.ToString(),
            ["encoding"] = "base64",
        });
    }

    private Reply Compare(HttpRequest request, Repository repo, string rest)
    {
        var range = Uri.UnescapeDataString(rest);
        var dots = range.IndexOf("...", StringComparison.Ordinal);
        if (dots <= 0 || repo.Resolve(range[..dots]) is not { } @base || repo.Resolve(range[(dots + 3)..]) is not { } head)
        {
            return Error(404, "Not Found");
        }

        if (Paging(request, request.Query.ContainsKey("per_page") || request.Query.ContainsKey("page") ? 30 : 250) is not { } paging)
        {
            return Error(422, "Validation Failed: per_page and page must be positive integers");
        }

        var (perPage, page) = paging;
        var comparison = repo.Comparisons.TryGetValue((@base, head), out var known) ? known : new Comparison([], @base == head ? 0 : 1);
        var commits = Enumerable.Range(0, comparison.Commits)
            .Select(i => Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes($"{@base}...{head}#{i}")))).ToList();
        var api = $"{BaseAddress}api/v3/repos/{repo.FullName}";
        var body = new JsonObject
        {
            ["url"] = $"{api}/compare/{@base}...{head}",
            ["html_url"] = $"{BaseAddress}{repo.FullName}/compare/{@base}...{head}",
            ["base_commit"] = new JsonObject { ["sha"] = @base, ["url"] = $"{api}/commits/{@base}" },
            ["merge_base_commit"] = new JsonObject { ["sha"] = @base, ["url"] = $"{api}/commits/{@base}" },
            ["status"] = comparison.Commits == 0 ? "identical" : "ahead",
            ["ahead_by"] = comparison.Commits,
            ["behind_by"] = 0,
            ["total_commits"] = comparison.Commits,
            ["commits"] = new JsonArray([.. commits.Skip((page - 1) * perPage).Take(perPage).Select(sha => (JsonNode)new JsonObject
            {
                ["sha"] = sha,
                ["url"] = $"{api}/commits/{sha}",
                ["commit"] = new JsonObject { ["message"] = $"commit {sha[..7]}" },
            })]),
        };
        if (page == 1 && !comparison.FilesOmitted)
        {
            body["files"] = new JsonArray([.. comparison.Files.Take(MaxCompareFiles).Select(f => (JsonNode)FileJson(repo, head, f))]);
        }

        var link = Link($"{BaseAddress}api/v3/repositories/{repo.Id}/compare/{@base}...{head}", request, perPage, page, (commits.Count + perPage - 1) / perPage);
        return Json(200, body, link);
    }

    private Reply PullRequestFiles(HttpRequest request, Repository repo, string rest)
    {
        if (rest.Split('/') is not [var numberText, "files"]
            || !int.TryParse(numberText, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            || !repo.PullRequestFiles.TryGetValue(number, out var all))
        {
            return Error(404, "Not Found");
        }

        if (Paging(request, 30) is not { } paging)
        {
            return Error(422, "Validation Failed: per_page and page must be positive integers");
        }

        var (perPage, page) = paging;
        var files = all.Take(MaxPullRequestFiles).ToList();
        var head = repo.Branches.TryGetValue(repo.DefaultBranch, out var sha) ? sha : new string('0', 40);
        var link = Link($"{BaseAddress}api/v3/repositories/{repo.Id}/pulls/{number}/files", request, perPage, page, (files.Count + perPage - 1) / perPage);
        return Json(200, new JsonArray([.. files.Skip((page - 1) * perPage).Take(perPage).Select(f => (JsonNode)FileJson(repo, head, f))]), link);
    }

    /// <summary><c>per_page</c> (GitHub answers at most 100 whatever is asked) and <c>page</c>; null when either is no positive integer.</summary>
    private static (int PerPage, int Page)? Paging(HttpRequest request, int defaultPerPage)
    {
        var perPage = defaultPerPage;
        var page = 1;
        if ((request.Query.TryGetValue("per_page", out var perPageText) && (!int.TryParse(perPageText, NumberStyles.None, CultureInfo.InvariantCulture, out perPage) || perPage < 1))
            || (request.Query.TryGetValue("page", out var pageText) && (!int.TryParse(pageText, NumberStyles.None, CultureInfo.InvariantCulture, out page) || page < 1)))
        {
            return null;
        }

        return (Math.Min(perPage, 100), page);
    }

    /// <summary>GitHub's Link header: <c>prev</c>, <c>next</c>, <c>last</c>, <c>first</c> as they apply, the request's <c>per_page</c> kept.</summary>
    private static string? Link(string url, HttpRequest request, int perPage, int page, int pages)
    {
        string Page(int n) => request.Query.ContainsKey("per_page")
            ? $"<{url}?per_page={perPage}&page={n}>"
            : $"<{url}?page={n}>";

        var links = new List<string>();
        if (page > 1)
        {
            links.Add($"{Page(page - 1)}; rel=\"prev\"");
        }

        if (page < pages)
        {
            links.Add($"{Page(page + 1)}; rel=\"next\"");
            links.Add($"{Page(pages)}; rel=\"last\"");
        }

        if (page > 1)
        {
            links.Add($"{Page(1)}; rel=\"first\"");
        }

        return links.Count == 0 ? null : string.Join(", ", links);
    }

    private JsonObject FileJson(Repository repo, string commit, ChangedFile file)
    {
        var escaped = string.Join('/', file.Filename.Split('/').Select(Uri.EscapeDataString));
        var json = new JsonObject
        {
            ["sha"] = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes($"{commit}:{file.Filename}"))),
            ["filename"] = file.Filename,
            ["status"] = file.Status,
            ["additions"] = 1,
            ["deletions"] = file.Status == "added" ? 0 : 1,
            ["changes"] = file.Status == "added" ? 1 : 2,
            ["blob_url"] = $"{BaseAddress}{repo.FullName}/blob/{commit}/{escaped}",
            ["raw_url"] = $"{BaseAddress}{repo.FullName}/raw/{commit}/{escaped}",
            ["contents_url"] = $"{BaseAddress}api/v3/repos/{repo.FullName}/contents/{escaped}?ref={commit}",
            ["patch"] = "@@ -1 +1 @@\n-old\n+new",
        };
        if (file.PreviousFilename is { } previous)
        {
            json["previous_filename"] = previous;
        }

        return json;
    }

    /// <summary>A file a comparison or pull request changed: <c>added</c>, <c>modified</c>, <c>removed</c>, <c>renamed</c> (from <paramref name="PreviousFilename"/>).</summary>
    public sealed record ChangedFile(string Filename, string Status = "modified", string? PreviousFilename = null);

    /// <summary>
    /// What <c>compare/{base}...{head}</c> answers: the changed files (only the first 300 listed), the number of commits
    /// between, and, with <paramref name="FilesOmitted"/>, an answer without its <c>files</c> field.
    /// </summary>
    public sealed record Comparison(IReadOnlyList<ChangedFile> Files, int Commits = 1, bool FilesOmitted = false);

    /// <summary>A repository's trees, comparisons and pull requests.</summary>
    public sealed partial class Repository
    {
        /// <summary>Comparisons by the commits compared (<c>base</c>, <c>head</c>); two known commits without one compare as one commit changing nothing.</summary>
        public ConcurrentDictionary<(string Base, string Head), Comparison> Comparisons { get; } = new();

        /// <summary>The files of each pull request by number; a number missing here is no pull request (404).</summary>
        public ConcurrentDictionary<int, IReadOnlyList<ChangedFile>> PullRequestFiles { get; } = new();

        /// <summary>
        /// Records a commit holding exactly <paramref name="files"/> (path to text) and moves <paramref name="branch"/> to it;
        /// every directory that holds one of them can be listed at it.
        /// </summary>
        public string CommitFiles(string branch, IReadOnlyDictionary<string, string> files, string? sha = null)
        {
            sha ??= Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(Guid.NewGuid().ToString())));
            foreach (var (path, content) in files)
            {
                Files[(sha, path)] = Encoding.UTF8.GetBytes(content);
            }

            Commits.Add(sha);
            Branches[branch] = sha;
            return sha;
        }

        /// <summary>Says which files changed between <paramref name="base"/> and <paramref name="head"/> (commit ids).</summary>
        public void SetChanges(string @base, string head, IEnumerable<string> files, int commits = 1) =>
            Comparisons[(@base, head)] = new Comparison([.. files.Select(f => new ChangedFile(f))], commits);

        /// <summary>Opens pull request <paramref name="number"/> changing <paramref name="files"/>.</summary>
        public void SetPullRequestFiles(int number, IEnumerable<string> files) =>
            PullRequestFiles[number] = [.. files.Select(f => new ChangedFile(f))];
    }
}

using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CiTrigger.Tests.Fakes;

/// <summary>
/// GitHub Enterprise's REST API (<c>/api/v3/</c>) on loopback Kestrel, as strict as GitHub about what this
/// service sends: a User-Agent is required, a token must be right when one is configured, refs resolve
/// the way GitHub resolves them (branch, tag, <c>refs/...</c>, commit id) and the contents endpoint
/// answers raw bytes only for the raw media types, JSON otherwise. Commit statuses are validated and
/// recorded. Failures and latency can be injected.
/// </summary>
public sealed class FakeGitHubApi : IAsyncDisposable
{
    public const string Token = "ghp_fake_token_for_tests";

    private readonly ConcurrentDictionary<string, Repository> repositories = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<RecordedGitHubRequest> requests = new();
    private readonly WebApplication app;

    private FakeGitHubApi(WebApplication app) => this.app = app;

    /// <summary>The URL to configure as <c>GitHub:BaseUrl</c> (the host root; Octokit adds api/v3/).</summary>
    public Uri BaseAddress => new(app.Urls.First() + "/");

    public double FailureRate { get; set; }

    /// <summary>Share of commit-status requests answered 500.</summary>
    public double StatusFailureRate { get; set; }

    public TimeSpan Latency { get; set; }

    /// <summary>Keep a log of requests (the default); a benchmark turns it off so memory stays flat.</summary>
    public bool Retain { get; set; } = true;

    /// <summary>When set, the contents endpoint answers with this Content-Type instead of the raw one.</summary>
    public string? RawContentTypeOverride { get; set; }

    /// <summary>When set, served as <c>.ci/workflow.yaml</c> of any repository at any ref (for load runs).</summary>
    public byte[]? AnyManifest { get; set; }

    public IReadOnlyList<RecordedGitHubRequest> Requests => [.. requests];

    public IReadOnlyList<RecordedGitHubRequest> ContentRequests => [.. requests.Where(r => r.Path.Contains("/contents/", StringComparison.Ordinal))];

    public IReadOnlyList<JsonObject> Statuses =>
        [.. requests.Where(r => r.Method == "POST" && r.Status == 201).Select(r => JsonNode.Parse(r.Body)!.AsObject())];

    public static async Task<FakeGitHubApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var web = builder.Build();
        var fake = new FakeGitHubApi(web);
        web.Run(fake.HandleAsync);
        await web.StartAsync();
        return fake;
    }

    /// <summary>Adds (or returns) a repository with a default branch.</summary>
    public Repository Repo(string fullName, string defaultBranch = "main") =>
        repositories.GetOrAdd(fullName, name => new Repository(name, defaultBranch));

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext http)
    {
        var request = http.Request;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        var recorded = new RecordedGitHubRequest(request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "",
            request.Headers.Accept.ToString(), request.Headers.UserAgent.ToString(), request.Headers.Authorization.ToString(),
            Encoding.UTF8.GetString(buffer.ToArray()));
        if (Latency > TimeSpan.Zero)
        {
            await Task.Delay(Latency);
        }

        var (status, contentType, body) = Route(recorded, request);
        recorded.Status = status;
        if (Retain)
        {
            requests.Enqueue(recorded);
        }

        http.Response.StatusCode = status;
        http.Response.ContentType = contentType;
        await http.Response.Body.WriteAsync(body);
    }

    private (int, string, byte[]) Route(RecordedGitHubRequest r, HttpRequest request)
    {
        if (string.IsNullOrEmpty(r.UserAgent))
        {
            return Error(403, "Request forbidden by administrative rules. Please make sure your request has a User-Agent header");
        }

        // Authorization schemes are case-insensitive (RFC 7235); GitHub takes "token" and "bearer".
        var credential = r.Authorization.Split(' ', 2);
        if (r.Authorization.Length > 0 && !(credential.Length == 2 && credential[1] == Token
            && (credential[0].Equals("token", StringComparison.OrdinalIgnoreCase) || credential[0].Equals("bearer", StringComparison.OrdinalIgnoreCase))))
        {
            return Error(401, "Bad credentials");
        }

        if (!r.Path.StartsWith("/api/v3/repos/", StringComparison.Ordinal))
        {
            return Error(404, "Not Found");
        }

        var parts = r.Path["/api/v3/repos/".Length..].Split('/', 4);
        if (AnyManifest is { } any && r.Method == "GET" && parts is [_, _, "contents", ".ci/workflow.yaml"])
        {
            return (200, "application/vnd.github.v3.raw; charset=utf-8", any);
        }

        if (parts.Length < 3 || !repositories.TryGetValue($"{parts[0]}/{parts[1]}", out var repo))
        {
            return Error(404, "Not Found");
        }

        var isStatus = r.Method == "POST" && parts[2] == "statuses" && parts.Length == 4;
        if (Random.Shared.NextDouble() < (isStatus ? StatusFailureRate : FailureRate))
        {
            return Error(isStatus ? 500 : Random.Shared.Next(2) == 0 ? 502 : 503, "Server Error");
        }

        if (isStatus)
        {
            return CreateStatus(repo, Uri.UnescapeDataString(parts[3]), r.Body);
        }

        if (r.Method != "GET" || parts[2] != "contents" || parts.Length != 4)
        {
            return Error(404, "Not Found");
        }

        var path = string.Join('/', parts[3].Split('/').Select(Uri.UnescapeDataString));
        var gitRef = request.Query["ref"].ToString();
        var sha = repo.Resolve(gitRef.Length == 0 ? repo.DefaultBranch : gitRef);
        if (sha is null)
        {
            return Error(404, $"No commit found for the ref {gitRef}");
        }

        if (!repo.Files.TryGetValue((sha, path), out var content))
        {
            return Error(404, "Not Found");
        }

        var raw = r.Accept.Split(',').Select(a => a.Split(';')[0].Trim())
            .FirstOrDefault(a => a is "application/vnd.github.v3.raw" or "application/vnd.github.raw" or "application/vnd.github.raw+json");
        if (raw is null)
        {
            var json = new JsonObject
            {
                ["type"] = "file", ["encoding"] = "base64", ["path"] = path, ["sha"] = sha, ["content"] = Convert.ToBase64String(content),
            };
            return (200, "application/json; charset=utf-8", Encoding.UTF8.GetBytes(json.ToJsonString()));
        }

        return (200, RawContentTypeOverride ?? raw + "; charset=utf-8", content);
    }

    private static (int, string, byte[]) CreateStatus(Repository repo, string sha, string body)
    {
        if (!repo.Commits.Contains(sha))
        {
            return Error(422, $"No commit found for SHA: {sha}");
        }

        JsonObject status;
        try
        {
            status = JsonNode.Parse(body)!.AsObject();
        }
        catch (System.Text.Json.JsonException)
        {
            return Error(400, "Problems parsing JSON");
        }

        var state = status["state"]?.ToString();
        if (state is not ("error" or "failure" or "pending" or "success"))
        {
            return Error(422, $"Validation Failed: state '{state}' is not one of error, failure, pending, success");
        }

        if (status["description"]?.ToString() is { Length: > 140 })
        {
            return Error(422, "Validation Failed: description is too long (maximum is 140 characters)");
        }

        status["sha"] = sha;
        return (201, "application/json; charset=utf-8", Encoding.UTF8.GetBytes(status.ToJsonString()));
    }

    private static (int, string, byte[]) Error(int status, string message) =>
        (status, "application/json; charset=utf-8", Encoding.UTF8.GetBytes(new JsonObject
        {
            ["message"] = message,
            ["documentation_url"] = "https://docs.github.com/rest",
        }.ToJsonString()));

    /// <summary>A repository: branches and tags pointing at commits, and files per commit.</summary>
    public sealed class Repository(string fullName, string defaultBranch)
    {
        public string FullName { get; } = fullName;

        public string DefaultBranch { get; } = defaultBranch;

        public ConcurrentDictionary<string, string> Branches { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<(string Sha, string Path), byte[]> Files { get; } = new();

        public ConcurrentBag<string> Commits { get; } = [];

        /// <summary>Records a commit holding <paramref name="path"/> and moves <paramref name="branch"/> to it.</summary>
        public string Commit(string branch, string path, string content, string? sha = null)
        {
            sha ??= Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(Encoding.UTF8.GetBytes(Guid.NewGuid().ToString())));
            Files[(sha, path)] = Encoding.UTF8.GetBytes(content);
            Commits.Add(sha);
            Branches[branch] = sha;
            return sha;
        }

        public string? Resolve(string gitRef)
        {
            if (Commits.Contains(gitRef))
            {
                return gitRef;
            }

            var name = gitRef.StartsWith("refs/heads/", StringComparison.Ordinal) ? gitRef["refs/heads/".Length..]
                : gitRef.StartsWith("refs/tags/", StringComparison.Ordinal) ? gitRef["refs/tags/".Length..]
                : gitRef;
            return Branches.TryGetValue(name, out var branch) ? branch : Tags.TryGetValue(name, out var tag) ? tag : null;
        }
    }
}

public sealed record RecordedGitHubRequest(string Method, string Path, string Query, string Accept, string UserAgent, string Authorization, string Body)
{
    public int Status { get; set; }

    /// <summary>The <c>ref</c> query parameter as the server decoded it.</summary>
    public string Ref => Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(Query).TryGetValue("ref", out var value) ? value.ToString() : "";
}

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
/// answers raw bytes only for the raw media types, JSON otherwise (a directory's listing always JSON). Commit statuses are validated and
/// recorded. Failures and latency can be injected. GitHub Apps (JWT, installation tokens), check runs,
/// collaborators' permissions, webhooks and their deliveries, directories, blobs, comparisons and pull requests'
/// files live in the other parts of this class.
/// </summary>
public sealed partial class FakeGitHubApi : IAsyncDisposable
{
    public const string Token = "ghp_fake_token_for_tests";

    private readonly ConcurrentDictionary<string, Repository> repositories = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<RecordedGitHubRequest> requests = new();
    private readonly WebApplication app;

    private FakeGitHubApi(WebApplication app, TimeProvider time)
    {
        this.app = app;
        Time = time;
    }

    /// <summary>The clock that JWTs and installation tokens are judged by.</summary>
    public TimeProvider Time { get; }

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

    /// <summary>Awaited before a request is answered: a test holds chosen requests here.</summary>
    public Func<RecordedGitHubRequest, Task>? Hold { get; set; }

    /// <summary>Called with every answered request, whether or not <see cref="Retain"/> keeps it.</summary>
    public Action<RecordedGitHubRequest>? Answered { get; set; }

    public IReadOnlyList<RecordedGitHubRequest> Requests => [.. requests];

    public IReadOnlyList<RecordedGitHubRequest> ContentRequests => [.. requests.Where(r => r.Path.Contains("/contents/", StringComparison.Ordinal))];

    public IReadOnlyList<JsonObject> Statuses =>
        [.. requests.Where(r => r.Method == "POST" && r.Status == 201 && r.Path.Contains("/statuses/", StringComparison.Ordinal))
            .Select(r => JsonNode.Parse(r.Body)!.AsObject())];

    /// <param name="time">The fake's clock (JWT and token expiry); the system clock when null.</param>
    /// <param name="address">Where it listens: loopback, or the local node's bridge address for silos in pods.</param>
    public static async Task<FakeGitHubApi> StartAsync(TimeProvider? time = null, string address = "127.0.0.1")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://{address}:0");
        var web = builder.Build();
        var fake = new FakeGitHubApi(web, time ?? TimeProvider.System);
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
        await Task.WhenAll(redeliveries.Keys);
        redeliveryClient.Dispose();
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

        if (Hold is { } hold)
        {
            await hold(recorded);
        }

        var reply = Route(recorded, request);
        recorded.Status = reply.Status;
        if (Retain)
        {
            requests.Enqueue(recorded);
        }

        Answered?.Invoke(recorded);
        http.Response.StatusCode = reply.Status;
        http.Response.ContentType = reply.ContentType;
        if (reply.Link is { } link)
        {
            http.Response.Headers.Link = link;
        }

        await http.Response.Body.WriteAsync(reply.Body);
    }

    private Reply Route(RecordedGitHubRequest r, HttpRequest request)
    {
        if (string.IsNullOrEmpty(r.UserAgent))
        {
            return Error(403, "Request forbidden by administrative rules. Please make sure your request has a User-Agent header");
        }

        if (!r.Path.StartsWith("/api/v3/", StringComparison.Ordinal))
        {
            return Error(404, "Not Found");
        }

        var caller = Authenticate(r.Authorization, out var refusal);
        if (caller is null)
        {
            return refusal!;
        }

        var path = r.Path["/api/v3/".Length..];
        if (path.StartsWith("app/", StringComparison.Ordinal))
        {
            return caller is AppCaller app ? RouteApp(app.App, r, request, path["app/".Length..]) : Error(401, "A JSON web token could not be decoded");
        }

        if (path.StartsWith("orgs/", StringComparison.Ordinal))
        {
            return RouteOrganization(caller, r, request, path["orgs/".Length..]);
        }

        if (path.StartsWith("repositories/", StringComparison.Ordinal))
        {
            path = ByRepositoryId(path) ?? path;
        }

        if (!path.StartsWith("repos/", StringComparison.Ordinal))
        {
            return Error(404, "Not Found");
        }

        var parts = path["repos/".Length..].Split('/', 4);
        if (AnyManifest is { } any && r.Method == "GET" && parts is [_, _, "contents", ".ci/workflow.yaml"] && caller is not AppCaller)
        {
            return new Reply(200, "application/vnd.github.v3.raw; charset=utf-8", any);
        }

        if (AnyPipelineReply(r, request, parts, caller) is { } pipelines)
        {
            return pipelines;
        }

        if (parts.Length < 3 || !repositories.TryGetValue($"{parts[0]}/{parts[1]}", out var repo))
        {
            return Error(404, "Not Found");
        }

        if (caller is AppCaller appCaller)
        {
            return r.Method == "GET" && parts is [_, _, "installation"]
                ? RepositoryInstallation(appCaller.App, repo)
                : Error(401, "A JSON web token is accepted only by /app endpoints and GET /repos/{owner}/{repo}/installation");
        }

        if (caller is InstallationCaller installed && !installed.Covers(repo.FullName))
        {
            return Error(404, "Not Found");
        }

        var rest = parts.Length == 4 ? parts[3] : "";
        var isStatus = r.Method == "POST" && parts[2] == "statuses" && parts.Length == 4;
        var isCheck = parts[2] == "check-runs" || (parts[2] == "commits" && rest.EndsWith("/check-runs", StringComparison.Ordinal));
        if (Random.Shared.NextDouble() < (isStatus ? StatusFailureRate : isCheck ? CheckFailureRate : FailureRate) || (isCheck && TakeCheckFailure()))
        {
            return Error(isStatus || isCheck ? 500 : Random.Shared.Next(2) == 0 ? 502 : 503, "Server Error");
        }

        if (TakeInjectedFailure(r) is { } injectedFailure)
        {
            return injectedFailure;
        }

        if (isStatus)
        {
            return Permitted(caller, "statuses", write: true) ?? CreateStatus(repo, Uri.UnescapeDataString(parts[3]), r.Body);
        }

        if (isCheck)
        {
            return RouteChecks(caller, r, request, repo, parts[2], rest);
        }

        if (parts[2] == "hooks")
        {
            return RouteHooks(caller, r, request, repo.Hooks, repo.HookRefusal, "Repository", $"repos/{repo.FullName}/hooks", rest);
        }

        if (parts[2] == "collaborators")
        {
            return RouteCollaborators(caller, r, repo, rest);
        }

        if (r.Method != "GET" || parts.Length != 4)
        {
            return Error(404, "Not Found");
        }

        return parts[2] switch
        {
            "contents" => Permitted(caller, "contents", write: false) ?? GetContent(r, request, repo, parts[3]),
            "git" => Permitted(caller, "contents", write: false) ?? GetBlob(r, repo, parts[3]),
            "compare" => Permitted(caller, "contents", write: false) ?? Compare(request, repo, parts[3]),
            "pulls" => Permitted(caller, "pull_requests", write: false) ?? PullRequestFiles(request, repo, parts[3]),
            _ => Error(404, "Not Found"),
        };
    }

    private Reply GetContent(RecordedGitHubRequest r, HttpRequest request, Repository repo, string encodedPath)
    {
        var path = string.Join('/', encodedPath.Split('/').Select(Uri.UnescapeDataString));
        var gitRef = request.Query["ref"].ToString();
        var sha = repo.Resolve(gitRef.Length == 0 ? repo.DefaultBranch : gitRef);
        if (sha is null)
        {
            return Error(404, $"No commit found for the ref {gitRef}");
        }

        if (!repo.Files.TryGetValue((sha, path), out var content))
        {
            // A directory: its entries in JSON, whatever the Accept header asks for.
            return ListDirectory(repo, sha, path.Trim('/'));
        }

        var raw = r.Accept.Split(',').Select(a => a.Split(';')[0].Trim())
            .FirstOrDefault(a => a is "application/vnd.github.v3.raw" or "application/vnd.github.raw" or "application/vnd.github.raw+json");
        if (raw is null)
        {
            var json = new JsonObject
            {
                ["type"] = "file", ["encoding"] = "base64", ["name"] = path[(path.LastIndexOf('/') + 1)..], ["path"] = path,
                ["sha"] = BlobSha(content), ["size"] = content.Length, ["content"] = Convert.ToBase64String(content),
            };
            return Json(200, json);
        }

        return new Reply(200, RawContentTypeOverride ?? raw + "; charset=utf-8", content);
    }

    private static Reply CreateStatus(Repository repo, string sha, string body)
    {
        if (!repo.Commits.Contains(sha))
        {
            return Error(422, $"No commit found for SHA: {sha}");
        }

        if (ParseObject(body) is not { } status)
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
        return Json(201, status);
    }

    private static JsonObject? ParseObject(string body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static Reply Json(int status, JsonNode body, string? link = null) =>
        new(status, "application/json; charset=utf-8", Encoding.UTF8.GetBytes(body.ToJsonString()), link);

    private static Reply Error(int status, string message) =>
        Json(status, new JsonObject
        {
            ["message"] = message,
            ["documentation_url"] = "https://docs.github.com/rest",
        });

    private sealed record Reply(int Status, string ContentType, byte[] Body, string? Link = null);

    /// <summary>A repository: branches and tags pointing at commits, and files per commit.</summary>
    public sealed partial class Repository(string fullName, string defaultBranch)
    {
        private static long lastId = 1_000;

        public string FullName { get; } = fullName;

        /// <summary>GitHub's numeric id, as deliveries carry it in <c>repository_id</c>.</summary>
        public long Id { get; } = Interlocked.Increment(ref lastId);

        /// <summary>The repository's webhooks (<c>/repos/{owner}/{repo}/hooks</c>).</summary>
        public HookList Hooks { get; } = new("Repository");

        /// <summary>When set, the hooks endpoints answer this status (403, 404) as they do for a token without admin rights.</summary>
        public int? HookRefusal { get; set; }

        public string DefaultBranch { get; } = defaultBranch;

        /// <summary>Collaborators' roles by login (<c>admin</c>, <c>maintain</c>, <c>write</c>, <c>triage</c>, <c>read</c>); anyone else is none.</summary>
        public ConcurrentDictionary<string, string> Collaborators { get; } = new(StringComparer.OrdinalIgnoreCase);

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

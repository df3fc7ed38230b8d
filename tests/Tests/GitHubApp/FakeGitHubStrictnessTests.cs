using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Xunit;

namespace CiTrigger.Tests.GitHubApp;

/// <summary>
/// The fake GitHub refuses what GitHub refuses, so a service that passes against it does not pass by the
/// fake's leniency: the App JWT's signature and time rules, expired installation tokens, the Checks
/// API's validation, and who may ask for a user's permission and how it is answered.
/// </summary>
public sealed class FakeGitHubStrictnessTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private readonly FakeTimeProvider time = new(Start);
    private FakeGitHubApi github = null!;
    private AppIdentity app = null!;
    private HttpClient http = null!;
    private string sha = "";

    public async ValueTask InitializeAsync()
    {
        github = await FakeGitHubApi.StartAsync(time);
        app = AppIdentity.Register(github);
        github.Install(app.App, 31, "octo/strict");
        sha = github.Repo("octo/strict").Commit("main", "README.md", "hello");
        http = new HttpClient { BaseAddress = new Uri(github.BaseAddress, "api/v3/") };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("strictness-test");
    }

    public async ValueTask DisposeAsync()
    {
        http.Dispose();
        app.Dispose();
        await github.DisposeAsync();
    }

    private string Jwt(RSA key, DateTimeOffset issuedAt, DateTimeOffset expires, string algorithm = SecurityAlgorithms.RsaSha256, object? issuer = null) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { ["iss"] = issuer ?? app.Id },
            IssuedAt = issuedAt.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = algorithm == SecurityAlgorithms.HmacSha256
                ? new SigningCredentials(new SymmetricSecurityKey(new byte[32]), algorithm)
                : new SigningCredentials(new RsaSecurityKey(key), algorithm),
        });

    private async Task<(int Status, JsonObject Body)> SendAsync(HttpMethod method, string path, string credential, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = AuthenticationHeaderValue.Parse(credential);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? [] : JsonNode.Parse(text) as JsonObject ?? []);
    }

    private async Task<string> InstallationTokenAsync()
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "app/installations/31/access_tokens", "Bearer " + Jwt(app.Key, Start.AddSeconds(-60), Start.AddMinutes(9)));
        Assert.Equal(201, status);
        return body["token"]!.GetValue<string>();
    }

    [Fact]
    public async Task An_app_jwt_within_githubs_rules_gets_an_installation_token_that_expires_an_hour_later()
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "app/installations/31/access_tokens", "Bearer " + Jwt(app.Key, Start.AddSeconds(-60), Start.AddMinutes(10)));

        Assert.Equal(201, status);
        Assert.StartsWith("ghs_", body["token"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("2030-01-02T04:04:05Z", body["expires_at"]!.GetValue<string>());
    }

    [Fact]
    public async Task App_jwts_that_break_githubs_rules_are_refused_with_401()
    {
        using var stranger = RSA.Create(2048);
        var refused = new Dictionary<string, string>
        {
            ["exp more than 10 minutes ahead"] = Jwt(app.Key, Start.AddSeconds(-30), Start.AddMinutes(10).AddSeconds(1)),
            ["exp - iat over 11 minutes"] = Jwt(app.Key, Start.AddMinutes(-2), Start.AddMinutes(9).AddSeconds(1)),
            ["iat in the future"] = Jwt(app.Key, Start.AddSeconds(5), Start.AddMinutes(5)),
            ["expired"] = Jwt(app.Key, Start.AddMinutes(-10), Start.AddSeconds(-1)),
            ["signed with another key"] = Jwt(stranger, Start.AddSeconds(-60), Start.AddMinutes(9)),
            ["HS256"] = Jwt(app.Key, Start.AddSeconds(-60), Start.AddMinutes(9), SecurityAlgorithms.HmacSha256),
            ["unknown issuer"] = Jwt(app.Key, Start.AddSeconds(-60), Start.AddMinutes(9), issuer: 1L),
        };

        foreach (var (why, jwt) in refused)
        {
            var (status, _) = await SendAsync(HttpMethod.Post, "app/installations/31/access_tokens", "Bearer " + jwt);
            Assert.True(status == 401, $"{why}: answered {status}");
        }

        Assert.DoesNotContain(github.TokenRequests, r => r.Status == 201);
    }

    public static TheoryData<string, string, string> RefusedTokenRequests => new()
    {
        { "an unknown key", """{"repositories":["strict"],"scope":"all"}""", "Invalid request.\n\n\"scope\" is not a permitted key." },
        { "a repository of no installation", """{"repositories":["elsewhere"]}""", "There is at least one repository that does not exist or is not accessible to the parent installation." },
        { "a repository of another installation", """{"repositories":["strict-b"]}""", "There is at least one repository that does not exist or is not accessible to the parent installation." },
        { "repositories that are no list of names", """{"repositories":"strict"}""", "Invalid request.\n\nFor 'properties/repositories', it is not an array of strings." },
        { "an unknown permission", """{"permissions":{"everything":"write"}}""", "Invalid request.\n\n\"everything\" is not a permitted key." },
        { "a level that is none", """{"permissions":{"contents":"readonly"}}""", "Invalid request.\n\nFor 'properties/contents', \"readonly\" is not one of [\"read\", \"write\"]." },
        { "more than the installation was granted", """{"repositories":["strict"],"permissions":{"contents":"write"}}""", "The permissions requested are not granted to this installation." },
        { "a permission the installation lacks", """{"permissions":{"administration":"read"}}""", "The permissions requested are not granted to this installation." },
    };

    [Theory]
    [MemberData(nameof(RefusedTokenRequests))]
    public async Task A_token_request_github_would_refuse_is_answered_422_as_github_words_it(string why, string json, string message)
    {
        github.Install(app.App, 32, "octo/strict-b");

        var (status, body) = await SendAsync(HttpMethod.Post, "app/installations/31/access_tokens", "Bearer " + Jwt(app.Key, Start.AddSeconds(-60), Start.AddMinutes(9)), JsonNode.Parse(json));

        Assert.True(status == 422, $"{why}: answered {status}");
        Assert.Equal(message, body["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_token_narrowed_to_one_repository_and_contents_read_reads_that_repository_and_does_nothing_else()
    {
        github.Install(app.App, 31, "octo/strict-other");
        github.Repo("octo/strict-other").Commit("main", "README.md", "other");
        var (issued, answer) = await SendAsync(HttpMethod.Post, "app/installations/31/access_tokens", "Bearer " + Jwt(app.Key, Start.AddSeconds(-60), Start.AddMinutes(9)),
            JsonNode.Parse("""{"repositories":["strict"],"permissions":{"contents":"read"}}"""));
        var token = "token " + answer["token"]!.GetValue<string>();
        var whole = "token " + await InstallationTokenAsync();

        Assert.Equal(201, issued);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"contents":"read","metadata":"read"}"""), answer["permissions"]), answer.ToJsonString());
        Assert.Equal("octo/strict", Assert.Single(answer["repositories"]!.AsArray())!["full_name"]!.GetValue<string>());
        Assert.Equal(200, (await SendAsync(HttpMethod.Get, $"repos/octo/strict/contents/README.md?ref={sha}", token)).Status);

        // Every token may read metadata, whatever was asked (GitHub adds it).
        github.Repo("octo/strict").Collaborators["reader"] = "read";
        Assert.Equal(200, (await SendAsync(HttpMethod.Get, "repos/octo/strict/collaborators/reader/permission", token)).Status);
        Assert.Equal((404, 200), ((await SendAsync(HttpMethod.Get, "repos/octo/strict-other/contents/README.md", token)).Status,
            (await SendAsync(HttpMethod.Get, "repos/octo/strict-other/contents/README.md", whole)).Status));
        Assert.Equal((403, 201), ((await SendAsync(HttpMethod.Post, "repos/octo/strict/check-runs", token, new { name = "ci", head_sha = sha })).Status,
            (await SendAsync(HttpMethod.Post, "repos/octo/strict/check-runs", whole, new { name = "ci", head_sha = sha })).Status));
        Assert.Equal(403, (await SendAsync(HttpMethod.Post, $"repos/octo/strict/statuses/{sha}", token, new { state = "success" })).Status);
        Assert.Equal(2, github.TokenRequests.Count);
        Assert.Equal((1, 1), (github.RestrictedTokenRequests.Count, github.UnrestrictedTokenRequests.Count));
    }

    [Fact]
    public async Task An_installation_token_is_refused_once_it_expired()
    {
        var token = await InstallationTokenAsync();
        Assert.Equal(201, (await SendAsync(HttpMethod.Post, "repos/octo/strict/check-runs", "token " + token, new { name = "ci", head_sha = sha })).Status);

        time.Advance(TimeSpan.FromHours(1));
        var (status, body) = await SendAsync(HttpMethod.Post, "repos/octo/strict/check-runs", "token " + token, new { name = "ci", head_sha = sha });

        Assert.Equal(401, status);
        Assert.Equal("Bad credentials", body["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Check_runs_need_an_app_installation_token()
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "repos/octo/strict/check-runs", "token " + FakeGitHubApi.Token, new { name = "ci", head_sha = sha });

        Assert.Equal(403, status);
        Assert.Equal("You must authenticate via a GitHub App.", body["message"]!.GetValue<string>());
    }

    public static TheoryData<string, string> RefusedCheckRuns => new()
    {
        { "no name", """{"head_sha":"SHA"}""" },
        { "no head_sha", """{"name":"ci"}""" },
        { "unknown commit", """{"name":"ci","head_sha":"0123456789012345678901234567890123456789"}""" },
        { "completed without conclusion", """{"name":"ci","head_sha":"SHA","status":"completed"}""" },
        { "completed_at without conclusion", """{"name":"ci","head_sha":"SHA","completed_at":"2030-01-02T03:04:05Z"}""" },
        { "stale set by an app", """{"name":"ci","head_sha":"SHA","conclusion":"stale"}""" },
        { "an unknown conclusion", """{"name":"ci","head_sha":"SHA","conclusion":"passed"}""" },
        { "a status reserved for Actions", """{"name":"ci","head_sha":"SHA","status":"waiting"}""" },
        { "action_required without details_url", """{"name":"ci","head_sha":"SHA","conclusion":"action_required"}""" },
        { "an output without summary", """{"name":"ci","head_sha":"SHA","output":{"title":"t"}}""" },
        { "details_url that is no URL", """{"name":"ci","head_sha":"SHA","details_url":"argo/workflows"}""" },
    };

    [Theory]
    [MemberData(nameof(RefusedCheckRuns))]
    public async Task A_check_run_github_would_refuse_is_answered_422(string why, string json)
    {
        var token = await InstallationTokenAsync();

        var (status, _) = await SendAsync(HttpMethod.Post, "repos/octo/strict/check-runs", "token " + token, JsonNode.Parse(json.Replace("SHA", sha, StringComparison.Ordinal)));

        Assert.True(status == 422, $"{why}: answered {status}");
        Assert.Empty(github.CheckRuns);
    }

    [Fact]
    public async Task A_conclusion_completes_a_check_run_and_every_accepted_change_is_kept()
    {
        var token = await InstallationTokenAsync();
        var (created, run) = await SendAsync(HttpMethod.Post, "repos/octo/strict/check-runs", "token " + token,
            new { name = "ci", head_sha = sha, external_id = "d-1", status = "queued" });
        var id = run["id"]!.GetValue<long>();

        var (updated, done) = await SendAsync(HttpMethod.Patch, $"repos/octo/strict/check-runs/{id}", "token " + token,
            new { conclusion = "action_required", details_url = "https://ci.example.com/d-1" });

        Assert.Equal((201, 200), (created, updated));
        Assert.Equal(("completed", "action_required"), (done["status"]!.GetValue<string>(), done["conclusion"]!.GetValue<string>()));
        Assert.NotNull(done["completed_at"]!.GetValue<string>());
        Assert.Equal(["queued", "completed"], Assert.Single(github.CheckRuns).History.Select(h => h["status"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_users_permission_is_answered_as_github_answers_it_and_only_to_callers_github_answers()
    {
        var repo = github.Repo("octo/strict");
        (repo.Collaborators["maintainer"], repo.Collaborators["triager"], repo.Collaborators["Owner"]) = ("maintain", "triage", "admin");
        var token = "token " + await InstallationTokenAsync();
        async Task<(int Status, JsonObject Body)> AskAsync(string user, string? credential, string accept = "application/vnd.github+json", string method = "GET")
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), $"repos/octo/strict/collaborators/{user}/permission");
            request.Headers.Accept.ParseAdd(accept);
            request.Headers.Authorization = credential is null ? null : AuthenticationHeaderValue.Parse(credential);
            using var response = await http.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadFromJsonAsync<JsonObject>() ?? []);
        }

        string Said((int Status, JsonObject Body) answer) => answer.Status == 200
            ? $"{answer.Body["permission"]} {answer.Body["role_name"]} {answer.Body["user"]!["login"]}"
            : $"{answer.Status} {answer.Body["message"]}";

        Assert.Equal("write maintain maintainer", Said(await AskAsync("maintainer", token)));
        Assert.Equal("read triage triager", Said(await AskAsync("triager", token)));
        Assert.Equal("admin admin Owner", Said(await AskAsync("owner", "token " + FakeGitHubApi.Token)));
        Assert.Equal("404 Not Found", Said(await AskAsync("stranger", token)));
        Assert.Equal("401 Requires authentication", Said(await AskAsync("maintainer", null)));
        Assert.Equal(415, (await AskAsync("maintainer", token, accept: "text/html")).Status);
        Assert.Equal(404, (await AskAsync("maintainer", token, method: "POST")).Status);
    }
}

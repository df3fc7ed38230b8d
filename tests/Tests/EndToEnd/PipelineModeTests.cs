using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.EndToEnd;

/// <summary>
/// Pipeline mode over real HTTP (no <c>Handler:ManifestPath</c>): a monorepo's <c>.ci/*.yaml</c> pipelines listed once per
/// event and read by blob id, each run only when its rules match, each with its own commit status
/// <c>k8s-webhook-handler/{pipeline}</c>, the others reported skipped; what GitHub was asked, request by request.
/// </summary>
public sealed class PipelineModeTests : IAsyncLifetime
{
    private const string Context = "k8s-webhook-handler";

    private static readonly Dictionary<string, string> Monorepo = new()
    {
        [".ci/backend.yaml"] = Pipeline("backend", "k8s-webhook-handler.io/on-path-change: \"services/api/**\""),
        [".ci/docs.yaml"] = Pipeline("docs", "k8s-webhook-handler.io/on-path-change: \"docs/**\""),
        [".ci/deploy.yaml"] = Pipeline("deploy", "k8s-webhook-handler.io/on-event: push\n    k8s-webhook-handler.io/on-branch: main"),
        [".ci/README.md"] = "not a pipeline",
        ["services/api/main.cs"] = "class Api {}",
    };

    private FakeGitHubApi github = null!;
    private FakeKubernetesApi kubernetes = null!;
    private TriggerHost service = null!;

    public async ValueTask InitializeAsync()
    {
        github = await FakeGitHubApi.StartAsync();
        kubernetes = await FakeKubernetesApi.StartAsync();
        service = await TriggerHost.StartAsync(github, kubernetes, new Dictionary<string, string>
        {
            [TriggerHost.PipelineMode] = "true",
            ["GitHub:ReportStatus"] = "true",
            ["Handler:Events"] = "push,delete,pull_request,issue_comment",
        });
    }

    public async ValueTask DisposeAsync()
    {
        await service.DisposeAsync();
        await kubernetes.DisposeAsync();
        await github.DisposeAsync();
    }

    /// <summary>A pipeline of one ConfigMap (complete once applied) whose first document carries <paramref name="rules"/>, with the revision as a parameter.</summary>
    private static string Pipeline(string name, string rules) => $$$"""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          generateName: {{{name}}}-
          annotations:
            {{{rules}}}
        data:
          revision: "{{ revision }}"
        """;

    /// <summary>A push whose payload lists its one commit's changed files (complete, so no API is asked).</summary>
    private static string Push(string repo, string before, string after, string gitRef = "refs/heads/main", params string[] modified)
    {
        var payload = JsonNode.Parse(Payloads.Push(repo, gitRef, before, after))!.AsObject();
        payload["commits"] = new JsonArray(new JsonObject
        {
            ["id"] = after,
            ["added"] = new JsonArray(),
            ["removed"] = new JsonArray(),
            ["modified"] = new JsonArray([.. modified.Select(m => (JsonNode)JsonValue.Create(m)!)]),
        });
        return payload.ToJsonString();
    }

    private async Task<JsonObject> FinishedAsync(string repo, string gitRef, int count = 1) => await Eventually.Until(async () =>
        await service.Client.GetFromJsonAsync<JsonObject>($"/admin/repos/{repo}/{gitRef}") is { } s && IsolatedService.Finished(s) >= count ? s : null,
        TimeSpan.FromSeconds(20), $"{count} finished events of {repo} {gitRef}");

    /// <summary>The commit statuses posted for <paramref name="sha"/>, in order.</summary>
    private IEnumerable<JsonObject> StatusesOf(string sha) =>
        github.Requests.Where(r => r.Method == "POST" && r.Status == 201 && r.Path.EndsWith("/statuses/" + sha, StringComparison.Ordinal))
            .Select(r => JsonNode.Parse(r.Body)!.AsObject());

    /// <summary>The newest commit status of each context on <paramref name="sha"/>, once each of <paramref name="contexts"/> has one that is not pending.</summary>
    private async Task<Dictionary<string, (string State, string Description)>> StatusesAsync(string sha, params string[] contexts) => await Eventually.Until(() =>
    {
        var latest = StatusesOf(sha).GroupBy(s => (string)s["context"]!)
            .ToDictionary(g => g.Key, g => ((string)g.Last()["state"]!, (string?)g.Last()["description"] ?? ""));
        return Task.FromResult(contexts.All(c => latest.TryGetValue(c, out var s) && s.Item1 != "pending") ? latest : null);
    }, TimeSpan.FromSeconds(20), "statuses of " + string.Join(", ", contexts));

    [Fact]
    public async Task A_monorepo_push_runs_the_pipelines_whose_rules_match_and_reports_the_others_skipped_each_in_its_own_status()
    {
        var repo = github.Repo("octo/mono-" + Guid.NewGuid().ToString("N")[..8]);
        var first = repo.CommitFiles("main", Monorepo);

        await service.SendAsync("push", Push(repo.FullName, Payloads.Sha(1), first, modified: "services/api/main.cs"));
        var state = await FinishedAsync(repo.FullName, "refs/heads/main");
        var statuses = await StatusesAsync(first, $"{Context}/backend", $"{Context}/deploy", $"{Context}/docs");

        Assert.Equal("success", statuses[$"{Context}/backend"].State);
        Assert.Equal("success", statuses[$"{Context}/deploy"].State);
        Assert.Equal("success", statuses[$"{Context}/docs"].State);
        Assert.StartsWith("skipped: on-path-change", statuses[$"{Context}/docs"].Description, StringComparison.Ordinal);
        Assert.DoesNotContain(Context, statuses.Keys);

        // Applied in file-name order, each labelled and annotated with its pipeline, the parameter replaced.
        var applied = kubernetes.Objects.Where(o => (string?)o["metadata"]!["annotations"]!["k8s-webhook-handler.io/repo_name"] == repo.FullName).ToList();
        Assert.Equal(["backend", "deploy"], applied.Select(o => (string)o["metadata"]!["labels"]!["k8s-webhook-handler.io/pipeline"]!).Order());
        Assert.All(applied, o => Assert.Equal(first, (string)o["data"]!["revision"]!));
        var pipelines = state["history"]![0]!["pipelines"]!.AsArray();
        Assert.Equal(["backend", "deploy", "docs"], pipelines.Select(p => (string)p!["name"]!));

        // The status page shows each pipeline with its check and result, and why docs was skipped.
        var delivery = (string)state["history"]![0]!["event"]!["delivery"]!;
        var page = System.Net.WebUtility.HtmlDecode(await service.Client.GetStringAsync($"/ui/deliveries/{delivery}"));
        Assert.Contains("<h2>Pipelines</h2>", page, StringComparison.Ordinal);
        Assert.True(page.Contains($"<code>{Context}/docs</code>", StringComparison.Ordinal), page[page.IndexOf("<h2>Pipelines", StringComparison.Ordinal)..][..600]);
        Assert.Contains("on-path-change: no changed file matches docs/**", page, StringComparison.Ordinal);
        var refPage = System.Net.WebUtility.HtmlDecode(await service.Client.GetStringAsync($"/ui/repos/{repo.FullName}/refs/heads/main"));
        Assert.Contains("<li><code>docs</code>: skipped</li>", refPage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unchanged_pipeline_costs_no_request_on_the_next_commit_only_the_one_listing()
    {
        var repo = github.Repo("octo/mono-" + Guid.NewGuid().ToString("N")[..8]);
        var first = repo.CommitFiles("main", Monorepo);
        await service.SendAsync("push", Push(repo.FullName, Payloads.Sha(1), first, modified: "services/api/main.cs"));
        await FinishedAsync(repo.FullName, "refs/heads/main");
        var listings = github.ContentRequests.Count(r => r.Path.Contains(repo.FullName, StringComparison.OrdinalIgnoreCase));
        var blobs = github.BlobRequests.Count(r => r.Path.Contains(repo.FullName, StringComparison.OrdinalIgnoreCase));
        Assert.Equal((1, 3), (listings, blobs));

        var second = repo.CommitFiles("main", new Dictionary<string, string>(Monorepo) { ["docs/index.md"] = "# docs" });
        await service.SendAsync("push", Push(repo.FullName, first, second, modified: "docs/index.md"));
        await FinishedAsync(repo.FullName, "refs/heads/main", 2);
        var statuses = await StatusesAsync(second, $"{Context}/backend", $"{Context}/deploy", $"{Context}/docs");

        Assert.Equal(listings + 1, github.ContentRequests.Count(r => r.Path.Contains(repo.FullName, StringComparison.OrdinalIgnoreCase)));
        Assert.Equal(blobs, github.BlobRequests.Count(r => r.Path.Contains(repo.FullName, StringComparison.OrdinalIgnoreCase)));
        Assert.Empty(github.CompareRequests);
        Assert.StartsWith("skipped", statuses[$"{Context}/backend"].Description, StringComparison.Ordinal);
        Assert.StartsWith("applied", statuses[$"{Context}/docs"].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_complete_list_in_the_payload_the_compare_api_is_asked_and_a_new_branch_runs_every_path_rule()
    {
        var repo = github.Repo("octo/mono-" + Guid.NewGuid().ToString("N")[..8]);
        var first = repo.CommitFiles("feature", Monorepo);

        // A new branch: its changed files cannot be known, so no path rule skips anything.
        await service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/feature", Payloads.ZeroSha, first));
        await FinishedAsync(repo.FullName, "refs/heads/feature");
        var created = await StatusesAsync(first, $"{Context}/backend", $"{Context}/deploy", $"{Context}/docs");
        Assert.StartsWith("applied", created[$"{Context}/backend"].Description, StringComparison.Ordinal);
        Assert.StartsWith("applied", created[$"{Context}/docs"].Description, StringComparison.Ordinal);
        Assert.StartsWith("skipped: on-branch", created[$"{Context}/deploy"].Description, StringComparison.Ordinal);

        // A push whose payload lists no commit: the comparison says docs only changed.
        var second = repo.CommitFiles("feature", new Dictionary<string, string>(Monorepo) { ["docs/a.md"] = "a" });
        repo.SetChanges(first, second, ["docs/a.md"]);
        var payload = JsonNode.Parse(Payloads.Push(repo.FullName, "refs/heads/feature", first, second))!.AsObject();
        payload["commits"] = new JsonArray();
        await service.SendAsync("push", payload.ToJsonString());
        await FinishedAsync(repo.FullName, "refs/heads/feature", 2);
        var compared = await StatusesAsync(second, $"{Context}/backend", $"{Context}/docs");

        Assert.Single(github.CompareRequests);
        Assert.StartsWith("skipped: on-path-change", compared[$"{Context}/backend"].Description, StringComparison.Ordinal);
        Assert.StartsWith("applied", compared[$"{Context}/docs"].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_repository_without_pipelines_gets_nothing_applied_and_no_status_and_a_bad_pipeline_name_fails_the_event_naming_the_file()
    {
        var bare = github.Repo("octo/bare-" + Guid.NewGuid().ToString("N")[..8]);
        var readme = bare.CommitFiles("main", new Dictionary<string, string> { ["README.md"] = "hello" });
        await service.SendAsync("push", Push(bare.FullName, Payloads.Sha(1), readme, modified: "README.md"));
        var none = await FinishedAsync(bare.FullName, "refs/heads/main");
        Assert.Equal("applied", (string)none["history"]![0]!["outcome"]!);
        Assert.Empty(none["history"]![0]!["pipelines"]!.AsArray());

        var bad = github.Repo("octo/bad-" + Guid.NewGuid().ToString("N")[..8]);
        var commit = bad.CommitFiles("main", new Dictionary<string, string> { [".ci/Backend.yaml"] = Pipeline("backend", "x: y") });
        await service.SendAsync("push", Push(bad.FullName, Payloads.Sha(1), commit, modified: ".ci/Backend.yaml"));
        var failed = await FinishedAsync(bad.FullName, "refs/heads/main");
        Assert.Equal("failed", (string)failed["history"]![0]!["outcome"]!);
        var status = await StatusesAsync(commit, Context);
        Assert.Equal("failure", status[Context].State);
        Assert.Contains(".ci/Backend.yaml", status[Context].Description, StringComparison.Ordinal);

        Assert.Empty(StatusesOf(readme));
        Assert.DoesNotContain(kubernetes.Objects, o => (string?)o["metadata"]!["annotations"]!["k8s-webhook-handler.io/repo_name"] is { } r && (r == bare.FullName || r == bad.FullName));
    }

    [Fact]
    public async Task A_pull_request_is_matched_by_its_files_and_base_branch_and_test_runs_a_named_pipeline_for_trusted_commenters_only()
    {
        var repo = github.Repo("octo/mono-" + Guid.NewGuid().ToString("N")[..8]);
        var baseSha = repo.CommitFiles("main", Monorepo);
        var head = repo.CommitFiles("feature", new Dictionary<string, string>(Monorepo) { ["services/api/new.cs"] = "class New {}" });
        repo.SetPullRequestFiles(5, ["services/api/new.cs"]);
        var delivery = Guid.NewGuid().ToString();
        using (var opened0 = await service.SendAsync("pull_request", Payloads.PullRequest(repo.FullName, 5, "opened", head, baseSha, "OWNER"), delivery))
        {
            Assert.Equal(System.Net.HttpStatusCode.Accepted, opened0.StatusCode);
        }

        await FinishedAsync(repo.FullName, "refs/pull/5/head");
        var opened = await StatusesAsync(head, $"{Context}/backend", $"{Context}/deploy", $"{Context}/docs");

        Assert.StartsWith("applied", opened[$"{Context}/backend"].Description, StringComparison.Ordinal);
        Assert.StartsWith("skipped: on-event", opened[$"{Context}/deploy"].Description, StringComparison.Ordinal);
        Assert.StartsWith("skipped: on-path-change", opened[$"{Context}/docs"].Description, StringComparison.Ordinal);
        Assert.Single(github.PullRequestFileRequests);

        // Others' comments change nothing; a bad name is no command; a trusted /test docs runs docs whatever its rules.
        using (var ignored = await service.SendAsync("issue_comment", Payloads.IssueComment(repo.FullName, 5, "/test docs", "NONE")))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, ignored.StatusCode);
        }

        using (var bad = await service.SendAsync("issue_comment", Payloads.IssueComment(repo.FullName, 5, "/test Docs!", "MEMBER")))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, bad.StatusCode);
        }

        using (var test = await service.SendAsync("issue_comment", Payloads.IssueComment(repo.FullName, 5, "/test docs", "MEMBER")))
        {
            Assert.Equal(System.Net.HttpStatusCode.Accepted, test.StatusCode);
        }

        var state = await FinishedAsync(repo.FullName, "refs/pull/5/head", 2);
        Assert.Equal($"{delivery}-test-1", (string)state["history"]![0]!["event"]!["delivery"]!);
        Assert.Equal(["docs"], state["history"]![0]!["pipelines"]!.AsArray().Select(p => (string)p!["name"]!));
        var docs = await Eventually.Until(() => Task.FromResult(StatusesOf(head).LastOrDefault(s => (string)s["context"]! == $"{Context}/docs" && ((string)s["description"]!).StartsWith("applied", StringComparison.Ordinal))),
            TimeSpan.FromSeconds(20), "docs applied by /test docs");
        Assert.Equal("success", (string)docs["state"]!);
        Assert.Equal(2, IsolatedService.Finished(await service.Client.GetFromJsonAsync<JsonObject>($"/admin/repos/{repo.FullName}/refs/pull/5/head") ?? []));
    }

    [Fact]
    public async Task A_trusted_comment_runs_the_pipelines_whose_on_comment_matches_its_first_line_and_nothing_else()
    {
        var repo = github.Repo("octo/mono-" + Guid.NewGuid().ToString("N")[..8]);
        var files = new Dictionary<string, string>(Monorepo) { [".ci/preview.yaml"] = Pipeline("preview", "k8s-webhook-handler.io/on-comment: \"^/preview( |$)\"") };
        var baseSha = repo.CommitFiles("main", files);
        var head = repo.CommitFiles("feature", files);
        repo.SetPullRequestFiles(6, ["README.md"]);
        var delivery = Guid.NewGuid().ToString();
        using (var opened = await service.SendAsync("pull_request", Payloads.PullRequest(repo.FullName, 6, "opened", head, baseSha, "OWNER"), delivery))
        {
            Assert.Equal(System.Net.HttpStatusCode.Accepted, opened.StatusCode);
        }

        var first = await FinishedAsync(repo.FullName, "refs/pull/6/head");
        var skipped = first["history"]![0]!["pipelines"]!.AsArray().Single(p => (string)p!["name"]! == "preview")!;
        Assert.Equal("skipped", (string)skipped["status"]!);
        Assert.StartsWith("on-comment", (string)skipped["reason"]!, StringComparison.Ordinal);

        // A comment no rule answers runs nothing; "/preview please" from a member runs preview alone.
        using (var hello = await service.SendAsync("issue_comment", Payloads.IssueComment(repo.FullName, 6, "looks good", "MEMBER")))
        {
            Assert.Equal(System.Net.HttpStatusCode.Accepted, hello.StatusCode);
        }

        using (var preview = await service.SendAsync("issue_comment", Payloads.IssueComment(repo.FullName, 6, "/preview please\nwith a second line", "MEMBER")))
        {
            Assert.Equal(System.Net.HttpStatusCode.Accepted, preview.StatusCode);
        }

        var state = await FinishedAsync(repo.FullName, "refs/pull/6/head", 3);
        var history = state["history"]!.AsArray();
        Assert.Equal([$"{delivery}-comment-2", $"{delivery}-comment-1", delivery], history.Select(h => (string)h!["event"]!["delivery"]!));
        Assert.Empty(history[1]!["pipelines"]!.AsArray());
        Assert.Equal(["preview"], history[0]!["pipelines"]!.AsArray().Select(p => (string)p!["name"]!));
        Assert.Equal("applied", (string)history[0]!["pipelines"]![0]!["status"]!);
        var previews = kubernetes.Objects.Count(o => o["metadata"]!["labels"]?["k8s-webhook-handler.io/pipeline"]?.GetValue<string>() == "preview"
            && (string?)o["metadata"]!["annotations"]!["k8s-webhook-handler.io/repo_name"] == repo.FullName);
        Assert.Equal(1, previews);
    }
}

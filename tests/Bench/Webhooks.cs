using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;

namespace CiTrigger.Bench;

/// <summary>
/// Signed push webhooks shaped like GitHub's (about 4 KB each), forming a proper before/after chain per
/// ref, so the service processes them in order without waiting for missing predecessors.
/// </summary>
public static class Webhooks
{
    public const string Secret = "bench-secret-0123456789";
    private static readonly string[] Template = BuildTemplate().Split('\u0001');

    public sealed record Request(string Delivery, string Repository, string Ref, int RefIndex, int Sequence, string Revision, byte[] Body, string Signature)
    {
        public string Key => Repository.ToLowerInvariant() + ":" + Ref;

        public HttpRequestMessage ToMessage() => GitHubWebhook.WithSignature("push", Body, "application/json", Delivery, Signature);
    }

    /// <summary>A commit id naming ref and sequence; never all zeros, which GitHub reserves for "no commit".</summary>
    public static string Sha(int refIndex, int sequence) => $"{refIndex + 1:x8}{sequence:x32}";

    public static Request Push(string run, int refIndex, int sequence)
    {
        var repository = $"bench/r{refIndex % 100}";
        var gitRef = $"refs/heads/{run}-b{refIndex}";
        var before = sequence == 0 ? new string('0', 40) : Sha(refIndex, sequence - 1);
        var after = Sha(refIndex, sequence);
        var body = Encoding.UTF8.GetBytes(string.Concat(Template[0], gitRef, Template[1], before, Template[2], after, Template[3], repository, Template[4]));
        return new Request($"{run}-{refIndex}-{sequence}", repository, gitRef, refIndex, sequence, after, body, GitHubWebhook.Sign(body, Secret));
    }

    /// <summary>An endless supply of pushes, round-robin over <paramref name="refs"/> refs, each ref's chain in order.</summary>
    public sealed class Sequence(string run, int refs)
    {
        private readonly int[] next = new int[refs];
        private long counter = -1;

        public Request Next()
        {
            var refIndex = (int)(Interlocked.Increment(ref counter) % refs);
            return Push(run, refIndex, Interlocked.Increment(ref next[refIndex]) - 1);
        }
    }

    private static string BuildTemplate()
    {
        // \u0001 marks where ref, before, after and repository go (repository twice-free: one field).
        var commit = new JsonObject
        {
            ["id"] = "\u0001",
            ["tree_id"] = new string('a', 40),
            ["distinct"] = true,
            ["message"] = "Build and test the change",
            ["timestamp"] = "2026-11-24T12:00:00Z",
            ["url"] = "https://github.com/bench/app/commit/x",
            ["author"] = new JsonObject { ["name"] = "Octo Cat", ["email"] = "octocat@example.com", ["username"] = "octocat" },
            ["committer"] = new JsonObject { ["name"] = "GitHub", ["email"] = "noreply@github.com", ["username"] = "web-flow" },
            ["added"] = new JsonArray("src/new.cs"),
            ["removed"] = new JsonArray(),
            ["modified"] = new JsonArray("README.md", "src/app.cs"),
        };
        var user = new JsonObject
        {
            ["login"] = "octocat", ["id"] = 583231, ["node_id"] = "MDQ6VXNlcjU4MzIzMQ==",
            ["avatar_url"] = "https://avatars.githubusercontent.com/u/583231?v=4", ["url"] = "https://api.github.com/users/octocat",
            ["html_url"] = "https://github.com/octocat", ["type"] = "User", ["site_admin"] = false,
        };
        var payload = new JsonObject
        {
            ["ref"] = "\u0001",
            ["before"] = "\u0001",
            ["after"] = "\u0001",
            ["repository"] = new JsonObject
            {
                ["id"] = 186853002, ["node_id"] = "MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=", ["name"] = "app",
                ["full_name"] = "\u0001",
                ["private"] = false, ["owner"] = user.DeepClone(), ["html_url"] = "https://github.com/bench/app",
                ["description"] = "Benchmark repository", ["fork"] = false, ["url"] = "https://github.com/bench/app",
                ["git_url"] = "git://github.com/bench/app.git", ["ssh_url"] = "git@github.com:bench/app.git",
                ["clone_url"] = "https://github.com/bench/app.git", ["svn_url"] = "https://github.com/bench/app",
                ["homepage"] = null, ["size"] = 1024, ["stargazers_count"] = 42, ["watchers_count"] = 42, ["language"] = "C#",
                ["has_issues"] = true, ["has_projects"] = true, ["has_downloads"] = true, ["has_wiki"] = true, ["has_pages"] = false,
                ["forks_count"] = 3, ["archived"] = false, ["disabled"] = false, ["open_issues_count"] = 1,
                ["license"] = new JsonObject { ["key"] = "mit", ["name"] = "MIT License", ["spdx_id"] = "MIT" },
                ["topics"] = new JsonArray("ci", "kubernetes"), ["visibility"] = "public", ["default_branch"] = "main",
                ["created_at"] = 1557933565, ["updated_at"] = "2026-11-24T12:00:00Z", ["pushed_at"] = 1557933657,
            },
            ["pusher"] = new JsonObject { ["name"] = "octocat", ["email"] = "octocat@example.com" },
            ["sender"] = user.DeepClone(),
            ["created"] = false,
            ["deleted"] = false,
            ["forced"] = false,
            ["base_ref"] = null,
            ["compare"] = "https://github.com/bench/app/compare/a...b",
            ["commits"] = new JsonArray(commit.DeepClone()),
            ["head_commit"] = commit,
        };

        // Only the first "id" of a commit is a placeholder; the template keeps ref, before, after, full_name.
        var json = payload.ToJsonString();
        var first = json.IndexOf("\"id\":\"\\u0001\"", StringComparison.Ordinal);
        while (first >= 0)
        {
            json = json.Remove(first, "\"id\":\"\\u0001\"".Length).Insert(first, $"\"id\":\"{new string('c', 40)}\"");
            first = json.IndexOf("\"id\":\"\\u0001\"", StringComparison.Ordinal);
        }

        return json.Replace("\\u0001", "\u0001", StringComparison.Ordinal);
    }
}

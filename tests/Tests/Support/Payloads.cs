using System.Text.Json.Nodes;

namespace CiTrigger.Tests.Support;

/// <summary>Webhook bodies built from GitHub's own examples (the fixture files), with the fields a test cares about replaced.</summary>
public static class Payloads
{
    public static string FixturesRoot => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static JsonObject Example(string eventType, int index = 0) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(FixturesRoot, "webhooks", eventType, $"{index}.json")))!.AsObject();

    public static string Push(string repo, string gitRef, string before, string after, string defaultBranch = "main", bool deleted = false)
    {
        var payload = WithRepository(Example("push", 4), repo, defaultBranch);
        payload["ref"] = gitRef;
        payload["before"] = before;
        payload["after"] = after;
        payload["deleted"] = deleted;
        payload["created"] = before.All(c => c == '0');
        return payload.ToJsonString();
    }

    public static string Delete(string repo, string name, string refType = "branch", string defaultBranch = "main")
    {
        var payload = WithRepository(Example("delete"), repo, defaultBranch);
        payload["ref"] = name;
        payload["ref_type"] = refType;
        return payload.ToJsonString();
    }

    public static string CheckRun(string repo, string branch, string headSha, string action = "rerequested")
    {
        var payload = WithRepository(Example("check_run", 7), repo, "main");
        payload["action"] = action;
        payload["check_run"]!["head_sha"] = headSha;
        payload["check_run"]!["check_suite"]!["head_branch"] = branch;
        return payload.ToJsonString();
    }

    public static string CheckSuite(string repo, string branch, string before, string after, string action = "requested")
    {
        var payload = WithRepository(Example("check_suite", 3), repo, "main");
        payload["action"] = action;
        payload["check_suite"]!["head_branch"] = branch;
        payload["check_suite"]!["before"] = before;
        payload["check_suite"]!["after"] = after;
        return payload.ToJsonString();
    }

    /// <summary>The author of the pull requests of <see cref="PullRequest"/>, as in GitHub's example.</summary>
    public const string PullRequestAuthor = "Codertocat";

    /// <summary>
    /// A pull request event from the <c>opened</c> example: <paramref name="headRepo"/> is the head repository's
    /// owner/name (a fork when it is not <paramref name="repo"/>; null for a deleted fork); <paramref name="sender"/>
    /// the user who caused the event (the author, <see cref="PullRequestAuthor"/>, unless said).
    /// </summary>
    public static string PullRequest(
        string repo, int number, string action, string headSha, string baseSha, string association = "MEMBER", string? headRepo = "",
        string? before = null, string[]? labels = null, bool merged = false, string? label = null, string baseBranch = "main", string? sender = null)
    {
        var payload = WithRepository(Example("pull_request", 0), repo, "main");
        payload["action"] = action;
        payload["sender"]!["login"] = sender ?? PullRequestAuthor;
        payload["number"] = number;
        var pr = payload["pull_request"]!.AsObject();
        pr["number"] = number;
        pr["author_association"] = association;
        pr["merged"] = merged;
        pr["labels"] = new JsonArray([.. (labels ?? []).Select(l => (JsonNode)new JsonObject { ["name"] = l })]);
        pr["head"]!["sha"] = headSha;
        pr["head"]!["ref"] = "feature";
        headRepo = headRepo == "" ? repo : headRepo;
        if (headRepo is null)
        {
            pr["head"]!["repo"] = null;
        }
        else
        {
            var head = pr["head"]!["repo"]!.AsObject();
            head["full_name"] = headRepo;
            head["clone_url"] = $"https://github.com/{headRepo}.git";
        }

        pr["base"]!["sha"] = baseSha;
        pr["base"]!["ref"] = baseBranch;
        pr["base"]!["repo"]!["full_name"] = repo;
        if (before is not null)
        {
            payload["before"] = before;
            payload["after"] = headSha;
        }

        if (label is not null)
        {
            payload["label"] = new JsonObject { ["name"] = label };
        }

        return payload.ToJsonString();
    }

    /// <summary>A comment from the <c>created</c> example, on pull request <paramref name="number"/> unless <paramref name="onPullRequest"/> is false.</summary>
    public static string IssueComment(string repo, int number, string body, string association = "MEMBER", string action = "created", bool onPullRequest = true)
    {
        var payload = WithRepository(Example("issue_comment", 0), repo, "main");
        payload["action"] = action;
        payload["issue"]!["number"] = number;
        if (onPullRequest)
        {
            payload["issue"]!["pull_request"] = new JsonObject { ["url"] = $"https://api.github.com/repos/{repo}/pulls/{number}" };
        }

        payload["comment"]!["body"] = body;
        payload["comment"]!["author_association"] = association;
        return payload.ToJsonString();
    }

    /// <summary>The payload as a GitHub App's webhook sends it: with the installation that it concerns.</summary>
    public static string Installed(string json, long installation)
    {
        var payload = JsonNode.Parse(json)!.AsObject();
        payload["installation"] = new JsonObject { ["id"] = installation, ["node_id"] = "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u" };
        return payload.ToJsonString();
    }

    /// <summary>The payload as a repository's own webhook sends it: without an installation.</summary>
    public static string Uninstalled(string json)
    {
        var payload = JsonNode.Parse(json)!.AsObject();
        payload.Remove("installation");
        return payload.ToJsonString();
    }

    public static string Sha(int n) => n.ToString("x40", System.Globalization.CultureInfo.InvariantCulture);

    public static readonly string ZeroSha = new('0', 40);

    private static JsonObject WithRepository(JsonObject payload, string repo, string defaultBranch)
    {
        var repository = payload["repository"]!.AsObject();
        repository["full_name"] = repo;
        repository["name"] = repo.Split('/')[1];
        repository["git_url"] = $"git://github.com/{repo}.git";
        repository["ssh_url"] = $"git@github.com:{repo}.git";
        repository["clone_url"] = $"https://github.com/{repo}.git";
        repository["default_branch"] = defaultBranch;
        return payload;
    }
}

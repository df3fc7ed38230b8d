using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace CiTrigger.Tests.Fakes;

/// <summary>
/// The Checks API as GitHub validates it: only an App's installation token may write check runs (and only
/// with the <c>checks</c> permission); a run needs a name and a commit of the repository; a completed run
/// (by <c>status</c> or <c>completed_at</c>) needs a conclusion, and a conclusion completes the run;
/// <c>stale</c> is GitHub's alone, and <c>waiting</c>/<c>requested</c>/<c>pending</c> are GitHub Actions';
/// <c>action_required</c> needs a <c>details_url</c>; an output needs a title and a summary of at most
/// 65535 characters. Every accepted change is kept, so tests can read a run's whole lifecycle.
/// </summary>
public sealed partial class FakeGitHubApi
{
    private const int MaxOutputText = 65_535;

    private static readonly HashSet<string> Conclusions = new(StringComparer.Ordinal)
    {
        "action_required", "cancelled", "failure", "neutral", "success", "skipped", "timed_out",
    };

    private static long lastCheckRunId = 7_000_000;

    private readonly ConcurrentDictionary<long, CheckRun> checkRuns = new();

    private int checkFailuresLeft;

    /// <summary>Share of check-run requests answered 500.</summary>
    public double CheckFailureRate { get; set; }

    /// <summary>The next <paramref name="count"/> check-run requests are answered 500.</summary>
    public void FailNextCheckRequests(int count) => Volatile.Write(ref checkFailuresLeft, count);

    private bool TakeCheckFailure()
    {
        while (true)
        {
            var left = Volatile.Read(ref checkFailuresLeft);
            if (left <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref checkFailuresLeft, left - 1, left) == left)
            {
                return true;
            }
        }
    }

    public IReadOnlyList<CheckRun> CheckRuns => [.. checkRuns.Values.OrderBy(c => c.Id)];

    private Reply RouteChecks(Caller caller, RecordedGitHubRequest r, HttpRequest request, Repository repo, string segment, string rest)
    {
        if (caller is not InstallationCaller installed)
        {
            return caller is AnonymousCaller ? Error(401, "Requires authentication") : Error(403, "You must authenticate via a GitHub App.");
        }

        if (Permitted(caller, "checks", write: r.Method != "GET") is { } refusal)
        {
            return refusal;
        }

        if (segment == "commits")
        {
            return r.Method == "GET" ? ListCheckRuns(request, repo, rest[..^"/check-runs".Length]) : Error(404, "Not Found");
        }

        if (rest.Length == 0)
        {
            return r.Method == "POST" ? CreateCheckRun(repo, installed.Installation.AppId, r.Body) : Error(404, "Not Found");
        }

        if (!long.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            || !checkRuns.TryGetValue(id, out var run) || run.Repository != repo.FullName)
        {
            return Error(404, "Not Found");
        }

        return r.Method switch
        {
            "GET" => Json(200, run.ToJson(BaseAddress)),
            "PATCH" when run.AppId != installed.Installation.AppId => Error(403, "Invalid app_id `" + installed.Installation.AppId + "` - check run can only be modified by the GitHub App that created it."),
            "PATCH" => UpdateCheckRun(run, r.Body),
            _ => Error(404, "Not Found"),
        };
    }

    private Reply CreateCheckRun(Repository repo, long appId, string body)
    {
        if (ParseObject(body) is not { } json)
        {
            return Error(400, "Problems parsing JSON");
        }

        if (Text(json, "name") is not { Length: > 0 } name)
        {
            return Error(422, "Invalid request.\n\n\"name\" wasn't supplied.");
        }

        if (Text(json, "head_sha") is not { } sha)
        {
            return Error(422, "Invalid request.\n\n\"head_sha\" wasn't supplied.");
        }

        if (!repo.Commits.Contains(sha))
        {
            return Error(422, $"No commit found for SHA: {sha}");
        }

        var run = new CheckRun(Interlocked.Increment(ref lastCheckRunId), repo.FullName, appId, sha, name);
        lock (run)
        {
            if (Apply(run, json) is { } invalid)
            {
                return invalid;
            }

            checkRuns[run.Id] = run;
            return Json(201, run.ToJson(BaseAddress));
        }
    }

    private Reply UpdateCheckRun(CheckRun run, string body)
    {
        if (ParseObject(body) is not { } json)
        {
            return Error(400, "Problems parsing JSON");
        }

        lock (run)
        {
            return Apply(run, json) ?? Json(200, run.ToJson(BaseAddress));
        }
    }

    /// <summary>Checks the whole request against GitHub's rules, then changes the run and records the change.</summary>
    private Reply? Apply(CheckRun run, JsonObject json)
    {
        foreach (var field in new[] { "name", "details_url", "external_id", "status", "conclusion", "started_at", "completed_at" })
        {
            if (json[field] is { } node && node.GetValueKind() is not (JsonValueKind.String or JsonValueKind.Null))
            {
                return Error(422, $"Invalid request.\n\nFor '{field}', {node.ToJsonString()} is not a string.");
            }
        }

        var status = Text(json, "status");
        var conclusion = Text(json, "conclusion");
        var detailsUrl = Text(json, "details_url") ?? run.DetailsUrl;
        if (status is "waiting" or "requested" or "pending")
        {
            return Error(422, $"Invalid request.\n\nOnly GitHub Actions can set a status of {status}.");
        }

        if (status is not (null or "queued" or "in_progress" or "completed"))
        {
            return Error(422, $"Invalid request.\n\nFor 'status', \"{status}\" is not a member of [\"queued\", \"in_progress\", \"completed\"].");
        }

        if (conclusion == "stale")
        {
            return Error(422, "Invalid request.\n\nOnly GitHub can set a conclusion of stale.");
        }

        if (conclusion is not null && !Conclusions.Contains(conclusion))
        {
            return Error(422, $"Invalid request.\n\nFor 'conclusion', \"{conclusion}\" is not one of {string.Join(", ", Conclusions.Order(StringComparer.Ordinal))}.");
        }

        if ((status == "completed" || json["completed_at"] is JsonValue) && conclusion is null)
        {
            return Error(422, "Invalid request.\n\n\"conclusion\" is required when \"status\" is \"completed\" or \"completed_at\" is given.");
        }

        if (conclusion == "action_required" && detailsUrl is null)
        {
            return Error(422, "Invalid request.\n\n\"details_url\" is required when \"conclusion\" is \"action_required\".");
        }

        if (detailsUrl is not null && !(Uri.TryCreate(detailsUrl, UriKind.Absolute, out var details) && details.Scheme is "http" or "https"))
        {
            return Error(422, "Invalid request.\n\n\"details_url\" is not a valid URL.");
        }

        DateTimeOffset? startedAt = null, completedAt = null;
        foreach (var (field, set) in new (string, Action<DateTimeOffset>)[] { ("started_at", v => startedAt = v), ("completed_at", v => completedAt = v) })
        {
            if (Text(json, field) is { } text)
            {
                if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
                {
                    return Error(422, $"Invalid request.\n\n\"{field}\" is not an ISO 8601 timestamp.");
                }

                set(at);
            }
        }

        JsonObject? output = null;
        if (json["output"] is { } outputNode && outputNode.GetValueKind() != JsonValueKind.Null)
        {
            if (outputNode is not JsonObject o || Text(o, "title") is null || Text(o, "summary") is not { } summary)
            {
                return Error(422, "Invalid request.\n\n\"title\" and \"summary\" are required in \"output\".");
            }

            if (summary.Length > MaxOutputText || Text(o, "text") is { Length: > MaxOutputText })
            {
                return Error(422, $"Invalid request.\n\nOnly {MaxOutputText} characters are allowed in \"summary\" and \"text\".");
            }

            if (o["annotations"] is JsonArray { Count: > 50 })
            {
                return Error(422, "Invalid request.\n\nOnly 50 annotations are allowed per request.");
            }

            output = (JsonObject)o.DeepClone();
        }

        var now = Time.GetUtcNow();
        run.Name = Text(json, "name") ?? run.Name;
        run.ExternalId = Text(json, "external_id") ?? run.ExternalId;
        run.DetailsUrl = detailsUrl;
        run.Output = output ?? run.Output;
        if (conclusion is not null)
        {
            (run.Status, run.Conclusion, run.CompletedAt) = ("completed", conclusion, completedAt ?? now);
        }
        else if (status is not null)
        {
            (run.Status, run.Conclusion, run.CompletedAt) = (status, null, null);
        }

        run.StartedAt = startedAt ?? run.StartedAt ?? now;
        run.History.Add(run.ToJson(BaseAddress));
        return null;
    }

    private Reply ListCheckRuns(HttpRequest request, Repository repo, string gitRef)
    {
        if (repo.Resolve(Uri.UnescapeDataString(gitRef)) is not { } sha)
        {
            return Error(422, $"No commit found for SHA: {gitRef}");
        }

        var name = request.Query["check_name"].ToString();
        var runs = checkRuns.Values
            .Where(c => c.Repository == repo.FullName && c.HeadSha == sha && (name.Length == 0 || c.Name == name))
            .OrderByDescending(c => c.Id)
            .ToList();
        if (request.Query["filter"].ToString() != "all")
        {
            runs = [.. runs.GroupBy(c => c.Name, StringComparer.Ordinal).Select(g => g.First())];
        }

        return Json(200, new JsonObject
        {
            ["total_count"] = runs.Count,
            ["check_runs"] = new JsonArray([.. runs.Select(c => { lock (c) { return (JsonNode)c.ToJson(BaseAddress); } })]),
        });
    }

    private static string? Text(JsonObject json, string field) =>
        json[field] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    /// <summary>A check run and every state GitHub accepted for it, oldest first.</summary>
    public sealed class CheckRun(long id, string repository, long appId, string headSha, string name)
    {
        public long Id { get; } = id;

        public string Repository { get; } = repository;

        public long AppId { get; } = appId;

        public string HeadSha { get; } = headSha;

        public string Name { get; set; } = name;

        public string? ExternalId { get; set; }

        public string Status { get; set; } = "queued";

        public string? Conclusion { get; set; }

        public string? DetailsUrl { get; set; }

        public DateTimeOffset? StartedAt { get; set; }

        public DateTimeOffset? CompletedAt { get; set; }

        public JsonObject? Output { get; set; }

        public List<JsonObject> History { get; } = [];

        internal JsonObject ToJson(Uri baseAddress) => new()
        {
            ["id"] = Id,
            ["head_sha"] = HeadSha,
            ["node_id"] = "CR_" + Id.ToString(CultureInfo.InvariantCulture),
            ["external_id"] = ExternalId,
            ["url"] = $"{baseAddress}api/v3/repos/{Repository}/check-runs/{Id}",
            ["html_url"] = $"{baseAddress}{Repository}/runs/{Id}",
            ["details_url"] = DetailsUrl,
            ["status"] = Status,
            ["conclusion"] = Conclusion,
            ["started_at"] = StartedAt is { } s ? Iso(s) : null,
            ["completed_at"] = CompletedAt is { } c ? Iso(c) : null,
            ["output"] = Output?.DeepClone() ?? new JsonObject { ["title"] = null, ["summary"] = null, ["text"] = null, ["annotations_count"] = 0 },
            ["name"] = Name,
            ["check_suite"] = new JsonObject { ["id"] = 1 },
            ["app"] = new JsonObject { ["id"] = AppId },
            ["pull_requests"] = new JsonArray(),
        };
    }
}

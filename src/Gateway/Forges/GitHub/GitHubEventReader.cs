using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Text.Json;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Gateway.Forges.GitHub;

/// <summary>
/// Maps a GitHub webhook payload to a <see cref="HookEvent"/> following the annotation rules of the
/// design. Everything in a payload is untrusted: every string read from it passes <see cref="Text"/>
/// (valid Unicode, no hidden characters, at most its <see cref="FieldLimits"/> length), fields that end
/// up in grain keys or URLs are validated further, and a payload that lacks them is rejected with the
/// name of the missing field.
/// </summary>
public static partial class GitHubEventReader
{
    public static readonly IReadOnlySet<string> SupportedEvents =
        new HashSet<string>(StringComparer.Ordinal) { "push", "delete", "check_run", "check_suite", "pull_request", "issue_comment" };

    /// <summary>A push payload lists at most this many commits (GitHub's cap): one with as many may lack some.</summary>
    public const int MaxPushCommits = 2048;

    /// <summary>
    /// The most changed files a push's event carries; beyond them the processor asks GitHub, whose comparison lists
    /// 300 at most too (more is "unknown" either way), so a larger list would only make every stored copy bigger.
    /// </summary>
    public const int MaxChangedFiles = 300;

    /// <summary>The longest changed file's path kept; a longer one leaves the changed files unknown.</summary>
    public const int MaxPathLength = 4096;

    /// <summary>
    /// The most characters of changed files' paths an event carries, all together: the event is stored in its ref's queue
    /// and history, so it stays small; beyond this the changed files are left unknown like beyond <see cref="MaxChangedFiles"/>.
    /// </summary>
    public const int MaxChangedFilesChars = 64 * 1024;

    /// <summary>Every event name the service knows: the supported ones and GitHub's <c>ping</c>.</summary>
    public static readonly IReadOnlySet<string> KnownEvents = new HashSet<string>(SupportedEvents.Append("ping"), StringComparer.Ordinal);

    /// <param name="eventType">The X-GitHub-Event header.</param>
    /// <param name="delivery">The X-GitHub-Delivery header.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="receivedAt">When the webhook arrived.</param>
    /// <param name="pullRequests">Whom pull request events trust; <see cref="PullRequestPolicy.Default"/> when null.</param>
    /// <param name="ownApp">In App mode the App's id: the check runs it reports with, and their check suites, must not trigger runs.</param>
    public static EventReadResult Read(string eventType, string delivery, JsonElement payload, DateTimeOffset receivedAt, PullRequestPolicy? pullRequests = null, long? ownApp = null)
    {
        if (payload.ValueKind != JsonValueKind.Object)
        {
            return Reject("payload is not a JSON object");
        }

        try
        {
            var read = eventType switch
            {
                "push" => ReadPush(delivery, payload, receivedAt),
                "delete" => ReadDelete(delivery, payload, receivedAt),
                "check_run" => ReadCheckRun(delivery, payload, receivedAt, ownApp),
                "check_suite" => ReadCheckSuite(delivery, payload, receivedAt, ownApp),
                "pull_request" => ReadPullRequest(delivery, payload, receivedAt, pullRequests ?? PullRequestPolicy.Default),
                "issue_comment" => ReadComment(delivery, payload, receivedAt, pullRequests ?? PullRequestPolicy.Default),
                _ => new EventReadResult.Ignored($"event type '{eventType}' is not handled"),
            };
            return WithInstallation(read, Installation(payload));
        }
        catch (PayloadException e)
        {
            return Reject(e.Message);
        }
    }

    private static EventReadResult WithInstallation(EventReadResult read, long? installation) => (read, installation) switch
    {
        (EventReadResult.Accepted accepted, { } id) => new EventReadResult.Accepted(accepted.Event with { InstallationId = id }),
        (EventReadResult.RerunRequested rerun, { }) => rerun with { Otherwise = WithInstallation(rerun.Otherwise, installation) },
        _ => read,
    };

    private static EventReadResult ReadPush(string delivery, JsonElement p, DateTimeOffset at)
    {
        var repo = ReadRepository(p);
        var gitRef = ValidateRef(RequireString(p, "ref", "ref", FieldLimits.Ref), "ref");
        var after = RequireSha(p, "after", "after");
        var before = RequireSha(p, "before", "before");
        var deleted = p.TryGetProperty("deleted", out var d) && d.ValueKind == JsonValueKind.True;
        var refDeleted = deleted || GitSha.IsZero(after);
        var created = p.TryGetProperty("created", out var c) && c.ValueKind == JsonValueKind.True;
        var changed = created || refDeleted || GitSha.IsZero(before) ? null : ChangedFiles(p);
        return Accept(refDeleted ? EventMeaning.Ends : EventMeaning.Moves, new HookEvent(delivery, "push", "", repo.FullName, repo.GitUrl, repo.SshUrl, gitRef,
            after, before, repo.DefaultBranch, refDeleted, at, ChangedFiles: changed));
    }

    /// <summary>
    /// The files a push changed (<c>commits[].added</c>, <c>modified</c> and <c>removed</c>), distinct and in ordinal order,
    /// when the payload lists them all: at least one and fewer than <see cref="MaxPushCommits"/> commits (GitHub cuts
    /// the list there), and at most <see cref="MaxChangedFiles"/> files of <see cref="MaxChangedFilesChars"/> characters. Else null, and the processor asks GitHub; so
    /// also for a path that is no string, is empty, longer than <see cref="MaxPathLength"/> or holds a hidden
    /// character: a list the service cannot trust to be whole never decides which pipelines run, and never refuses the push.
    /// </summary>
    private static ImmutableList<string>? ChangedFiles(JsonElement p)
    {
        if (!p.TryGetProperty("commits", out var commits) || commits.ValueKind != JsonValueKind.Array
            || commits.GetArrayLength() is 0 or >= MaxPushCommits)
        {
            return null;
        }

        var files = new HashSet<string>(StringComparer.Ordinal);
        var chars = 0;
        foreach (var commit in commits.EnumerateArray())
        {
            if (commit.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            foreach (var list in (ReadOnlySpan<string>)["added", "modified", "removed"])
            {
                if (!commit.TryGetProperty(list, out var paths) || paths.ValueKind != JsonValueKind.Array)
                {
                    return null;
                }

                foreach (var path in paths.EnumerateArray())
                {
                    if (ChangedPath(path) is not { } file)
                    {
                        return null;
                    }

                    if (files.Add(file) && (files.Count > MaxChangedFiles || (chars += file.Length) > MaxChangedFilesChars))
                    {
                        return null;
                    }
                }
            }
        }

        return [.. files.Order(StringComparer.Ordinal)];
    }

    private static string? ChangedPath(JsonElement path)
    {
        if (path.ValueKind != JsonValueKind.String || JsonMarshal.GetRawUtf8Value(path).Length > 6L * MaxPathLength)
        {
            return null;
        }

        try
        {
            return path.GetString() is { Length: > 0 and <= MaxPathLength } file && Names.IndexOfHidden(file) < 0 ? file : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static EventReadResult ReadDelete(string delivery, JsonElement p, DateTimeOffset at)
    {
        var repo = ReadRepository(p);
        var name = RequireString(p, "ref", "ref", FieldLimits.Branch);
        var prefix = RequireString(p, "ref_type", "ref_type", FieldLimits.Word) switch
        {
            "branch" => "refs/heads/",
            "tag" => "refs/tags/",
            var other => throw new PayloadException($"ref_type '{Names.Escape(other)}' is neither 'branch' nor 'tag'"),
        };
        var gitRef = ValidateRef(prefix + name, "ref");
        return Accept(EventMeaning.Clears, new HookEvent(delivery, "delete", "", repo.FullName, repo.GitUrl, repo.SshUrl, gitRef,
            "", "", repo.DefaultBranch, true, at));
    }

    private static EventReadResult ReadCheckRun(string delivery, JsonElement p, DateTimeOffset at, long? ownApp)
    {
        var repo = ReadRepository(p);
        var action = OptionalString(p, "action", "action", FieldLimits.Word);
        var run = RequireObject(p, "check_run");
        if (ownApp is { } app && action != "rerequested" && Creator(run) == app)
        {
            // GitHub tells the App of every change to the check runs it reports; acting on them would loop.
            return new EventReadResult.Ignored($"check_run '{action}' of a check run this service reports: it does not trigger a run (no loop)");
        }

        var read = ReadCheckRunOfBranch(delivery, p, at, repo, action, run);
        return action == "rerequested" && ExternalDelivery(run) is var (original, pipeline) && (ownApp is null || Creator(run) is null || Creator(run) == ownApp)
            ? new EventReadResult.RerunRequested(repo.FullName, original, null, "", read) { Pipeline = pipeline }
            : read;
    }

    private static EventReadResult ReadCheckRunOfBranch(string delivery, JsonElement p, DateTimeOffset at, Repository repo, string action, JsonElement run)
    {
        var suite = RequireObject(run, "check_suite", "check_run.check_suite");
        if (!TryBranch(suite, "check_run.check_suite.head_branch", out var branch))
        {
            return new EventReadResult.Ignored("check_run.check_suite.head_branch is empty (a pull request from a fork has no branch here)");
        }

        var gitRef = ValidateRef("refs/heads/" + branch, "check_run.check_suite.head_branch");
        var revision = RequireSha(run, "head_sha", "check_run.head_sha");
        return Accept(EventMeaning.None, new HookEvent(delivery, "check_run", action, repo.FullName, repo.GitUrl, repo.SshUrl, gitRef,
            revision, "", repo.DefaultBranch, false, at));
    }

    private static EventReadResult ReadCheckSuite(string delivery, JsonElement p, DateTimeOffset at, long? ownApp)
    {
        var repo = ReadRepository(p);
        var action = OptionalString(p, "action", "action", FieldLimits.Word);
        var suite = RequireObject(p, "check_suite");
        if (ownApp is { } app && action != "rerequested" && Creator(suite) == app)
        {
            // GitHub asks the App for a check suite on every push ("requested") and reports it "completed" once
            // the App's check runs are: neither is new work, and acting on "completed" would loop.
            return new EventReadResult.Ignored($"check_suite '{action}' of the check suite of this service's App: it does not trigger a run (no loop)");
        }

        if (!TryBranch(suite, "check_suite.head_branch", out var branch))
        {
            return new EventReadResult.Ignored("check_suite.head_branch is empty (a pull request from a fork has no branch here)");
        }

        var gitRef = ValidateRef("refs/heads/" + branch, "check_suite.head_branch");
        var after = RequireSha(suite, "after", "check_suite.after");
        var before = OptionalSha(suite, "before", "check_suite.before");
        var read = Accept(EventMeaning.None, new HookEvent(delivery, "check_suite", action, repo.FullName, repo.GitUrl, repo.SshUrl, gitRef,
            after, before, repo.DefaultBranch, false, at));
        return action == "rerequested"
            ? new EventReadResult.RerunRequested(repo.FullName, null, gitRef, OptionalSha(suite, "head_sha", "check_suite.head_sha") is { Length: > 0 } head ? head : after, read)
            : read;
    }

    private sealed record Repository(string FullName, string GitUrl, string SshUrl, string DefaultBranch);

    private static Repository ReadRepository(JsonElement p)
    {
        var repo = RequireObject(p, "repository");
        var fullName = RequireString(repo, "full_name", "repository.full_name", FieldLimits.Repository);
        if (!Names.IsRepository(fullName))
        {
            throw new PayloadException($"repository.full_name '{Names.Escape(fullName)}' is not an owner/name pair");
        }

        var cloneUrl = OptionalString(repo, "clone_url", "repository.clone_url", FieldLimits.Url);
        var gitUrl = OptionalString(repo, "git_url", "repository.git_url", FieldLimits.Url) is { Length: > 0 } g ? g : cloneUrl;
        var sshUrl = OptionalString(repo, "ssh_url", "repository.ssh_url", FieldLimits.Url);
        var defaultBranch = RequireString(repo, "default_branch", "repository.default_branch", FieldLimits.Branch);
        ValidateRef("refs/heads/" + defaultBranch, "repository.default_branch");
        return new Repository(fullName, gitUrl, sshUrl, defaultBranch);
    }

    /// <summary>The App installation that sent the event (<c>installation.id</c>); null in a repository's own webhook.</summary>
    private static long? Installation(JsonElement p)
    {
        if (!p.TryGetProperty("installation", out var installation) || installation.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return installation.ValueKind == JsonValueKind.Object && installation.TryGetProperty("id", out var id)
            && id.ValueKind == JsonValueKind.Number && id.TryGetInt64(out var value) && value > 0
            ? value
            : throw new PayloadException("'installation.id' is not an installation id");
    }

    /// <summary>The id of the App of a check run or check suite (<c>check_run.app.id</c>, <c>check_suite.app.id</c>), if the payload names one.</summary>
    private static long? Creator(JsonElement run) =>
        run.TryGetProperty("app", out var app) && app.ValueKind == JsonValueKind.Object && app.TryGetProperty("id", out var id)
        && id.ValueKind == JsonValueKind.Number && id.TryGetInt64(out var value) ? value : null;

    /// <summary>
    /// <c>check_run.external_id</c> when it can be a delivery id of this service, else null: the delivery alone, or
    /// (pipeline mode) <c>{delivery}/{pipeline}</c>. Any App sets this field as it likes, so a value that is neither
    /// is simply not ours, never a reason to refuse the event.
    /// </summary>
    private static (string Delivery, string? Pipeline)? ExternalDelivery(JsonElement run)
    {
        if (!run.TryGetProperty("external_id", out var value) || value.ValueKind != JsonValueKind.String
            || JsonMarshal.GetRawUtf8Value(value).Length > Names.MaxDeliveryLength + Names.MaxPipelineLength + 3)
        {
            return null;
        }

        try
        {
            return value.GetString() is { } id ? PipelineChecks.ParseExternalId(id) : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static bool TryBranch(JsonElement suite, string path, out string branch)
    {
        branch = OptionalString(suite, "head_branch", path, FieldLimits.Branch);
        return branch.Length > 0;
    }

    /// <summary>The event as GitHub's: what it means to its ref is decided here, by the reader, and nowhere after it.</summary>
    private static EventReadResult.Accepted Accept(EventMeaning meaning, HookEvent e) => new(e with { Forge = ForgeNames.GitHub, Meaning = meaning });

    private static EventReadResult.Rejected Reject(string reason) => new(reason);

    private static JsonElement RequireObject(JsonElement parent, string name, string? path = null)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Object)
        {
            throw new PayloadException($"missing required object '{path ?? name}'");
        }

        return value;
    }

    private static string RequireString(JsonElement parent, string name, string path, int maxLength) =>
        Text(parent, name, path, maxLength) is { Length: > 0 } text
            ? text
            : throw new PayloadException($"missing required string '{path}'");

    private static string OptionalString(JsonElement parent, string name, string path, int maxLength) =>
        Text(parent, name, path, maxLength) ?? "";

    /// <summary>
    /// The one way a string leaves a payload: null when the field is absent or not a string, else valid
    /// Unicode without hidden characters and at most <paramref name="maxLength"/> characters long.
    /// </summary>
    private static string? Text(JsonElement parent, string name, string path, int maxLength)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        // A character takes at most six bytes of JSON ("\uXXXX"), so a value this long in bytes is too
        // long in characters too, and is refused without decoding a copy of it.
        if (JsonMarshal.GetRawUtf8Value(value).Length - 2 > 6L * maxLength)
        {
            throw TooLong(path, maxLength);
        }

        string text;
        try
        {
            text = value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // GetString throws for invalid UTF-8 and for an escaped half of a surrogate pair ("\ud800").
            throw new PayloadException($"'{path}' is not valid Unicode (invalid UTF-8, or half of a UTF-16 surrogate pair)");
        }

        if (text.Length > maxLength)
        {
            throw TooLong(path, maxLength);
        }

        var hidden = Names.IndexOfHidden(text);
        return hidden < 0
            ? text
            : throw new PayloadException(
                $"'{path}' contains the control or invisible character {Names.Escape(text.Substring(hidden, char.IsSurrogatePair(text, hidden) ? 2 : 1))}: '{Names.Escape(text)}'");
    }

    private static PayloadException TooLong(string path, int maxLength) =>
        new($"'{path}' is longer than {maxLength} characters");

    private static string RequireSha(JsonElement parent, string name, string path)
    {
        var sha = RequireString(parent, name, path, FieldLimits.Sha);
        return GitSha.IsValid(sha) ? sha : throw new PayloadException($"'{path}' is not a commit id");
    }

    private static string OptionalSha(JsonElement parent, string name, string path)
    {
        var sha = OptionalString(parent, name, path, FieldLimits.Sha);
        return sha.Length == 0 || GitSha.IsValid(sha) ? sha : throw new PayloadException($"'{path}' is not a commit id");
    }

    private static string ValidateRef(string gitRef, string field) =>
        Names.IsGitRef(gitRef) ? gitRef : throw new PayloadException($"'{field}' is not a valid git ref: '{Names.Escape(gitRef)}'");

    private sealed class PayloadException(string message) : Exception(message);
}

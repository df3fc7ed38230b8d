using System.Collections.Immutable;
using System.Text.Json;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Gateway.Forges.GitHub;

/// <summary>
/// Pull requests and the comments that steer them. Fork-ness and trust are decided here, once, from the
/// payload: the manifest of a pull request from another repository (or from a deleted one) is read from the
/// base repository at <c>pull_request.base.sha</c>, an untrusted author's event is marked as needing
/// approval, and an event whose trust hangs on someone's write access names them (<see cref="ReadTrust"/>).
/// Nothing of the head repository is ever used but its clone URL, as an annotation.
/// </summary>
public static partial class GitHubEventReader
{
    public const string OkToTest = "/ok-to-test";
    public const string Retest = "/retest";

    /// <summary>The longest comment body looked at for a command (GitHub allows 65536 characters).</summary>
    private const int MaxCommentBody = 65536;

    private static EventReadResult ReadPullRequest(string delivery, JsonElement p, DateTimeOffset at, PullRequestPolicy policy)
    {
        var repo = ReadRepository(p);
        var action = RequireString(p, "action", "action", FieldLimits.Word);
        var pr = RequireObject(p, "pull_request");
        var number = PullNumber(p, "number", "number");
        var head = RequireObject(pr, "head", "pull_request.head");
        var headSha = RequireSha(head, "sha", "pull_request.head.sha");
        var @base = RequireObject(pr, "base", "pull_request.base");
        var baseSha = RequireSha(@base, "sha", "pull_request.base.sha");
        var baseRef = ValidateRef("refs/heads/" + RequireString(@base, "ref", "pull_request.base.ref", FieldLimits.Branch), "pull_request.base.ref");
        var baseRepo = @base.TryGetProperty("repo", out var b) && b.ValueKind == JsonValueKind.Object
            ? OptionalString(b, "full_name", "pull_request.base.repo.full_name", FieldLimits.Repository)
            : "";

        // A deleted head repository arrives as "repo": null: it can only have been a fork.
        var headRepo = head.TryGetProperty("repo", out var h) && h.ValueKind == JsonValueKind.Object ? h : (JsonElement?)null;
        var headName = headRepo is { } hr ? OptionalString(hr, "full_name", "pull_request.head.repo.full_name", FieldLimits.Repository) : "";
        var headUrl = headRepo is { } hu ? OptionalString(hu, "clone_url", "pull_request.head.repo.clone_url", FieldLimits.Url) : "";
        var fork = headName.Length == 0
            || !string.Equals(headName, repo.FullName, StringComparison.OrdinalIgnoreCase)
            || (baseRepo.Length > 0 && !string.Equals(baseRepo, repo.FullName, StringComparison.OrdinalIgnoreCase));

        var closed = action == "closed";
        var trust = ReadTrust(p, pr, action, fork, policy);
        if (trust.Refusal is { } refusal)
        {
            return new EventReadResult.Ignored(refusal);
        }

        // The base commit for a fork; and for an untrusted author's teardown too, which is never held for approval.
        var manifestRevision = fork || (closed && !trust.AuthorTrusted) ? baseSha : headSha;
        var before = action == "synchronize" ? OptionalSha(p, "before", "before") : "";
        bool? merged = closed ? pr.TryGetProperty("merged", out var m) && m.ValueKind == JsonValueKind.True : null;
        var gitRef = ValidateRef($"refs/pull/{number}/head", "number");
        var meaning = trust.Command.Length > 0 ? EventMeaning.None : closed ? EventMeaning.Ends : EventMeaning.Moves;
        return Accept(meaning, new HookEvent(delivery, "pull_request", action, repo.FullName, repo.GitUrl, repo.SshUrl, gitRef,
            headSha, before, repo.DefaultBranch, false, at,
            PullRequest: number, BaseRef: baseRef, HeadRepoUrl: headUrl, Merged: merged, ManifestRevision: manifestRevision,
            AuthorAssociation: trust.Association, NeedsApproval: trust.NeedsApproval, Command: trust.Command,
            Sender: trust.Sender, RunsIfWriter: trust.RunsIfWriter, ApprovalLabel: trust.ApprovalLabel));
    }

    private sealed record Trust(
        string Association, bool AuthorTrusted, bool NeedsApproval, string Command, string Sender,
        ImmutableList<string>? RunsIfWriter, bool ApprovalLabel, string? Refusal = null);

    /// <summary>
    /// Whom a pull request event trusts. Its author, by <c>author_association</c>; but a fork's head moved by someone
    /// else (its owner pushing to a member's pull request, say) runs unapproved only if GitHub says that sender
    /// has write access. The approval label approves nothing by itself: adding it is a command whose author's write
    /// access GitHub is asked about, and the ref remembers who put it there for later heads.
    /// </summary>
    private static Trust ReadTrust(JsonElement p, JsonElement pr, string action, bool fork, PullRequestPolicy policy)
    {
        var association = OptionalString(pr, "author_association", "pull_request.author_association", FieldLimits.Word);
        var trusted = policy.Trusts(association);
        var sender = Login(p, "sender", "sender.login");
        var command = action is "labeled" or "unlabeled" && LabelName(p) == policy.OkToTestLabel
            ? action == "labeled" ? HookEvent.LabelCommand : HookEvent.UnlabelCommand
            : "";
        var labelled = HasLabel(pr, policy.OkToTestLabel);
        if (command == HookEvent.LabelCommand && !Names.IsLogin(sender))
        {
            return new Trust(association, trusted, false, "", sender, null, labelled,
                $"the label '{policy.OkToTestLabel}' was added by '{Names.Escape(sender)}', whose write access cannot be asked about: it approves nothing");
        }

        var author = Login(pr, "user", "pull_request.user.login");
        var head = action != "closed" && command.Length == 0;
        var askSender = head && fork && trusted && !string.Equals(sender, author, StringComparison.OrdinalIgnoreCase);
        var needsApproval = head && (!trusted || (askSender && !Names.IsLogin(sender)));
        return new Trust(association, trusted, needsApproval, command, sender,
            askSender && !needsApproval ? [sender] : null, labelled);
    }

    /// <summary>The <c>login</c> of the user object <paramref name="name"/> of <paramref name="parent"/>; "" when there is none.</summary>
    private static string Login(JsonElement parent, string name, string path) =>
        parent.TryGetProperty(name, out var user) && user.ValueKind == JsonValueKind.Object
            ? OptionalString(user, "login", path, FieldLimits.Word)
            : "";

    private static string LabelName(JsonElement p) =>
        p.TryGetProperty("label", out var l) && l.ValueKind == JsonValueKind.Object
            ? OptionalString(l, "name", "label.name", FieldLimits.Branch)
            : "";

    private static EventReadResult ReadComment(string delivery, JsonElement p, DateTimeOffset at, PullRequestPolicy policy)
    {
        var repo = ReadRepository(p);
        var action = RequireString(p, "action", "action", FieldLimits.Word);
        var issue = RequireObject(p, "issue");
        var comment = RequireObject(p, "comment");
        if (action != "created")
        {
            return new EventReadResult.Ignored($"issue_comment '{action}': only new comments carry commands");
        }

        if (!issue.TryGetProperty("pull_request", out var isPull) || isPull.ValueKind != JsonValueKind.Object)
        {
            return new EventReadResult.Ignored("the comment is on an issue, not a pull request");
        }

        var command = CommentCommand(comment);
        if (command is null)
        {
            return new EventReadResult.Ignored($"the comment holds neither {OkToTest} nor {Retest}");
        }

        var association = OptionalString(comment, "author_association", "comment.author_association", FieldLimits.Word);
        if (!policy.Trusts(association))
        {
            return new EventReadResult.Ignored($"{command} from a commenter whose author_association '{association}' is not in Handler:TrustedAssociations changes nothing");
        }

        var number = PullNumber(issue, "number", "issue.number");
        var gitRef = ValidateRef($"refs/pull/{number}/head", "issue.number");
        return Accept(EventMeaning.None, new HookEvent(delivery, "issue_comment", action, repo.FullName, repo.GitUrl, repo.SshUrl, gitRef,
            "", "", repo.DefaultBranch, false, at,
            PullRequest: number, AuthorAssociation: association,
            Command: command == OkToTest ? HookEvent.ApproveCommand : HookEvent.RetestCommand));
    }

    /// <summary>The first command on a line of its own in the comment, or null. The body is free text: only whole lines are compared.</summary>
    private static string? CommentCommand(JsonElement comment)
    {
        if (!comment.TryGetProperty("body", out var body) || body.ValueKind != JsonValueKind.String
            || System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(body).Length > 6L * MaxCommentBody)
        {
            return null;
        }

        string text;
        try
        {
            text = body.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new PayloadException("'comment.body' is not valid Unicode (invalid UTF-8, or half of a UTF-16 surrogate pair)");
        }

        foreach (var line in text.Split('\n'))
        {
            var word = line.Trim();
            if (word is OkToTest or Retest)
            {
                return word;
            }
        }

        return null;
    }

    private static bool HasLabel(JsonElement pr, string name)
    {
        if (!pr.TryGetProperty("labels", out var labels) || labels.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var label in labels.EnumerateArray())
        {
            if (label.ValueKind == JsonValueKind.Object && OptionalString(label, "name", "pull_request.labels[].name", FieldLimits.Branch) == name)
            {
                return true;
            }
        }

        return false;
    }

    private static int PullNumber(JsonElement parent, string name, string path) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n > 0
            ? n
            : throw new PayloadException($"'{path}' is not a pull request number");
}

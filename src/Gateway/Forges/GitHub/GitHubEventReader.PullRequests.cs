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
    public const string Test = "/test";
    public const string Cancel = "/cancel";

    /// <summary>The longest first line of a comment kept for <c>on-comment</c> (<see cref="HookEvent.CommentLine"/>).</summary>
    public const int MaxCommentLine = 1000;

    /// <summary>The most labels of a pull request that are kept (<see cref="HookEvent.Labels"/>); GitHub allows 100.</summary>
    public const int MaxLabels = 100;

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
            Sender: trust.Sender, RunsIfWriter: trust.RunsIfWriter, ApprovalLabel: trust.ApprovalLabel, Labels: Labels(pr)));
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
        var association = OptionalString(comment, "author_association", "comment.author_association", FieldLimits.Word);
        if (!policy.Trusts(association))
        {
            return new EventReadResult.Ignored(command.Word is { } word
                ? $"{word} from a commenter whose author_association '{association}' is not in Handler:TrustedAssociations changes nothing"
                : $"the comment holds none of {OkToTest}, {Retest}, {Test}, {Cancel}, and a comment from a commenter whose author_association '{association}' is not in Handler:TrustedAssociations runs nothing");
        }

        if (command.Refusal is { } refusal)
        {
            return new EventReadResult.Ignored(refusal);
        }

        var number = PullNumber(issue, "number", "issue.number");
        var gitRef = ValidateRef($"refs/pull/{number}/head", "issue.number");
        return Accept(EventMeaning.None, new HookEvent(delivery, "issue_comment", action, repo.FullName, repo.GitUrl, repo.SshUrl, gitRef,
            "", "", repo.DefaultBranch, false, at,
            PullRequest: number, AuthorAssociation: association,
            Command: command.Command, Pipelines: command.Pipelines, CommentLine: command.Line));
    }

    /// <summary>
    /// What a comment asks: <see cref="HookEvent.Command"/>, the pipelines it names, the first line an ordinary comment
    /// matches <c>on-comment</c> with; or why it asks nothing (<see cref="Refusal"/>). <see cref="Word"/> is the command
    /// as written (<c>/test</c>), null for an ordinary comment.
    /// </summary>
    private sealed record CommentRequest(string Command, string? Word, ImmutableList<string>? Pipelines = null, string? Line = null, string? Refusal = null)
    {
        public static CommentRequest Refused(string? word, string refusal) => new("", word, Refusal: refusal);
    }

    /// <summary>
    /// The comment's request. <c>/ok-to-test</c> and <c>/retest</c> count on any line of their own, as they always
    /// have; the pipeline commands only as the first line (<c>/test</c>, <c>/test NAME</c>, <c>/cancel</c>, <c>/cancel NAME</c>);
    /// any other comment is an ordinary one, whose first line (trimmed, cut at <see cref="MaxCommentLine"/>) pipelines
    /// may match. The body is free text: only whole lines and whole words are compared.
    /// </summary>
    private static CommentRequest CommentCommand(JsonElement comment)
    {
        if (!comment.TryGetProperty("body", out var body) || body.ValueKind != JsonValueKind.String
            || System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(body).Length > 6L * MaxCommentBody)
        {
            return CommentRequest.Refused(null, $"the comment has no body of at most {MaxCommentBody} characters");
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

        var lines = text.Split('\n');
        foreach (var line in lines)
        {
            var word = line.Trim();
            if (word is OkToTest or Retest)
            {
                return new CommentRequest(word == OkToTest ? HookEvent.ApproveCommand : HookEvent.RetestCommand, word);
            }
        }

        var first = lines[0].Trim();
        var words = first.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words is [Test or Cancel, ..])
        {
            var verb = words[0];
            var command = verb == Test ? HookEvent.TestCommand : HookEvent.CancelCommand;
            return words switch
            {
                [_] => new CommentRequest(command, verb),
                [_, var name] when Names.IsPipeline(name) => new CommentRequest(command, verb, [name]),
                [_, var name] => CommentRequest.Refused(verb,
                    $"{verb} '{Names.Escape(name)}': a pipeline name is 1 to {Names.MaxPipelineLength} lower-case letters, digits and '-'"),
                _ => CommentRequest.Refused(verb, $"{verb} takes at most one pipeline name: '{Names.Escape(first)}'"),
            };
        }

        if (first.Length == 0)
        {
            return CommentRequest.Refused(null, "the comment's first line is empty: it holds no command and nothing for on-comment to match");
        }

        if (first.Length > MaxCommentLine)
        {
            first = first[..(char.IsHighSurrogate(first[MaxCommentLine - 1]) ? MaxCommentLine - 1 : MaxCommentLine)].TrimEnd();
        }

        var hidden = Names.IndexOfHidden(first);
        return hidden < 0
            ? new CommentRequest(HookEvent.CommentCommand, null, Line: first)
            : CommentRequest.Refused(null,
                $"the comment's first line contains the control or invisible character {Names.Escape(first.Substring(hidden, char.IsSurrogatePair(first, hidden) ? 2 : 1))}: it is not matched against on-comment");
    }

    /// <summary>
    /// The names of the pull request's labels (<c>pull_request.labels[].name</c>), in the payload's order, at most
    /// <see cref="MaxLabels"/> (GitHub's own limit per pull request), each held to the same limit as everywhere else.
    /// </summary>
    private static ImmutableList<string> Labels(JsonElement pr)
    {
        if (!pr.TryGetProperty("labels", out var labels) || labels.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var names = ImmutableList.CreateBuilder<string>();
        foreach (var label in labels.EnumerateArray())
        {
            if (names.Count == MaxLabels)
            {
                break;
            }

            if (label.ValueKind == JsonValueKind.Object
                && OptionalString(label, "name", "pull_request.labels[].name", FieldLimits.Branch) is { Length: > 0 } name
                && !names.Contains(name, StringComparer.Ordinal))
            {
                names.Add(name);
            }
        }

        return names.ToImmutable();
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

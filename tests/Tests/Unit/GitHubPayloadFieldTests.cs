using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CiTrigger.Gateway.Forges;
using CiTrigger.Gateway.Forges.GitHub;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>Every string GitHub's reader keeps is untrusted: bounded in length, valid Unicode, free of hidden characters, refused naming its field.</summary>
public class GitHubPayloadFieldTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static EventReadResult Read(string eventType, string json)
    {
        using var document = JsonDocument.Parse(json);
        return GitHubEventReader.Read(eventType, "d-1", document.RootElement, Now);
    }

    private static HookEvent Accepted(string eventType, string json) =>
        Assert.IsType<EventReadResult.Accepted>(Read(eventType, json)).Event;

    private const string Placeholder = "@@value@@";

    /// <summary>A handled payload with the field at the dotted <paramref name="path"/> replaced.</summary>
    private static string With(string eventType, string path, JsonNode? value)
    {
        var payload = JsonNode.Parse(eventType switch
        {
            "push" => Payloads.Push("octo/app", "refs/heads/main", Payloads.Sha(1), Payloads.Sha(2)),
            "delete" => Payloads.Delete("octo/app", "topic"),
            "check_run" => Payloads.CheckRun("octo/app", "topic", Payloads.Sha(7)),
            _ => Payloads.CheckSuite("octo/app", "topic", Payloads.Sha(3), Payloads.Sha(4)),
        })!;
        var parts = path.Split('.');
        var parent = parts[..^1].Aggregate(payload, (node, part) => node[part]!);
        parent[parts[^1]] = value;
        return payload.ToJsonString();
    }

    /// <summary>The payload as UTF-8 with the field's value replaced by raw JSON text, which may be invalid.</summary>
    private static byte[] WithRaw(string eventType, string path, byte[] rawValue)
    {
        var text = Encoding.UTF8.GetBytes(With(eventType, path, Placeholder));
        var quoted = Encoding.UTF8.GetBytes($"\"{Placeholder}\"");
        var at = text.AsSpan().IndexOf(quoted);
        return [.. text[..at], .. rawValue, .. text[(at + quoted.Length)..]];
    }

    private static EventReadResult Read(string eventType, byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        return GitHubEventReader.Read(eventType, "d-1", document.RootElement, Now);
    }

    private static string Rejected(string eventType, byte[] json) =>
        Assert.IsType<EventReadResult.Rejected>(Read(eventType, json)).Reason;

    public static TheoryData<string, string, int, int> OverlongFields() => new()
    {
        { "push", "repository.ssh_url", 20 * 1024 * 1024, 2048 },
        { "push", "repository.clone_url", 2049, 2048 },
        { "push", "repository.git_url", 2049, 2048 },
        { "push", "repository.full_name", 141, 140 },
        { "push", "repository.default_branch", 1001, 1000 },
        { "push", "ref", 1025, 1024 },
        { "push", "after", 65, 64 },
        { "delete", "ref", 1001, 1000 },
        { "check_run", "action", 65, 64 },
        { "check_run", "check_run.check_suite.head_branch", 1001, 1000 },
        { "check_suite", "check_suite.head_branch", 1001, 1000 },
    };

    [Theory]
    [MemberData(nameof(OverlongFields))]
    public void A_field_longer_than_its_limit_is_rejected_naming_the_field_and_the_limit(string eventType, string path, int length, int limit)
    {
        var value = path.EndsWith("full_name", StringComparison.Ordinal) ? "octo/" + new string('a', length - 5)
            : path == "ref" && eventType == "push" ? "refs/heads/" + new string('a', length - 11)
            : new string('a', length);

        var reason = Rejected(eventType, Encoding.UTF8.GetBytes(With(eventType, path, value)));

        Assert.Contains($"'{path}'", reason, StringComparison.Ordinal);
        Assert.Contains($"{limit} characters", reason, StringComparison.Ordinal);
        Assert.True(reason.Length < 400, reason);
    }

    [Fact]
    public void A_field_at_its_limit_is_kept()
    {
        var url = "https://github.com/" + new string('a', 2048 - 19);

        Assert.Equal(url, Accepted("push", With("push", "repository.ssh_url", url)).RepoSsh);
    }

    [Fact]
    public void A_20_MB_field_is_refused_without_copying_it()
    {
        var huge = WithRaw("push", "repository.ssh_url", Encoding.UTF8.GetBytes("\"" + new string('a', 20 * 1024 * 1024) + "\""));
        using var document = JsonDocument.Parse(huge);
        Accepted("push", With("push", "ref", "refs/heads/warm"));
        Read("push", With("push", "repository.ssh_url", new string('a', 2049)));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = GitHubEventReader.Read("push", "d-1", document.RootElement, Now);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.IsType<EventReadResult.Rejected>(result);
        Assert.True(allocated < 1024 * 1024, $"{allocated} bytes allocated");
    }

    public static TheoryData<string, string> TextFields() => new()
    {
        { "push", "ref" },
        { "push", "after" },
        { "push", "before" },
        { "push", "repository.full_name" },
        { "push", "repository.ssh_url" },
        { "push", "repository.clone_url" },
        { "push", "repository.git_url" },
        { "push", "repository.default_branch" },
        { "delete", "ref" },
        { "delete", "ref_type" },
        { "check_run", "action" },
        { "check_run", "check_run.head_sha" },
        { "check_run", "check_run.check_suite.head_branch" },
        { "check_suite", "check_suite.head_branch" },
        { "check_suite", "check_suite.before" },
    };

    [Theory]
    [MemberData(nameof(TextFields))]
    public void A_lone_surrogate_in_a_field_is_rejected_naming_the_field(string eventType, string path)
    {
        var reason = Rejected(eventType, WithRaw(eventType, path, Encoding.UTF8.GetBytes("\"x\\ud800\"")));

        Assert.Contains($"'{path}'", reason, StringComparison.Ordinal);
        Assert.Contains("not valid Unicode", reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TextFields))]
    public void Invalid_UTF8_in_a_field_is_rejected_naming_the_field(string eventType, string path)
    {
        var reason = Rejected(eventType, WithRaw(eventType, path, [(byte)'"', (byte)'x', 0xED, 0xA0, 0x80, 0xFF, (byte)'"']));

        Assert.Contains($"'{path}'", reason, StringComparison.Ordinal);
        Assert.Contains("not valid Unicode", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("push", "ref", "refs/heads/a\u202Eb", "\\u202E")]
    [InlineData("push", "ref", "refs/heads/a\u200Bb", "\\u200B")]
    [InlineData("push", "ref", "refs/heads/main\n", "\\u000A")]
    [InlineData("push", "repository.default_branch", "ma\uFEFFin", "\\uFEFF")]
    [InlineData("push", "repository.full_name", "octo/app\n", "\\u000A")]
    [InlineData("push", "repository.ssh_url", "git@github.com:octo/app.git\u202E", "\\u202E")]
    [InlineData("delete", "ref", "topic\u2028", "\\u2028")]
    [InlineData("check_run", "action", "rerequested\u0000", "\\u0000")]
    [InlineData("check_run", "check_run.check_suite.head_branch", "top\u200Dic", "\\u200D")]
    [InlineData("check_suite", "check_suite.head_branch", "\u202Etopic", "\\u202E")]
    public void A_control_or_format_character_in_a_field_is_rejected_and_shown_escaped(string eventType, string path, string value, string shown)
    {
        var reason = Rejected(eventType, Encoding.UTF8.GetBytes(With(eventType, path, value)));

        Assert.Contains($"'{path}'", reason, StringComparison.Ordinal);
        Assert.Contains(shown, reason, StringComparison.Ordinal);
        Assert.DoesNotContain(reason, c => char.IsControl(c) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format);
    }
}

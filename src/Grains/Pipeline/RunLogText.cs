using System.Text;
using System.Text.RegularExpressions;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Pipeline;

/// <summary>
/// What of a container's log may be shown on GitHub: the last <see cref="Lines"/> lines, at most
/// <see cref="MaxBytes"/> in all, with the values of the Secrets the run references and anything shaped like a
/// GitHub token replaced by <c>***</c>, and as markdown that no log line can break out of.
/// </summary>
public static partial class RunLogText
{
    /// <summary>Lines of the log shown (the design's default).</summary>
    public const int Lines = 50;

    /// <summary>Bytes of the log read at most (<c>limitBytes</c>) and shown at most.</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>
    /// How much of the last <see cref="Lines"/> lines is asked of the kubelet (its <c>limitBytes</c>, which keeps the
    /// <em>first</em> bytes of those lines): far more than is shown, so the end of the log, usually the error, is
    /// what <see cref="Tail"/> keeps, unless the lines together outgrow even this.
    /// </summary>
    public const int ReadBytes = 16 * MaxBytes;

    /// <summary>Secret values shorter than this are not masked: a one- or two-character value would hide half the log.</summary>
    public const int ShortestMasked = 3;

    public const string Mask = "***";

    /// <summary>
    /// The log's end with <paramref name="secrets"/> and token-shaped strings masked. Longer secret values are
    /// masked first, so a value that contains another is not left half shown; each line of a multi-line value
    /// is masked too, since a log shows it line by line.
    /// </summary>
    public static string Masked(string log, IEnumerable<string> secrets)
    {
        var values = secrets
            .SelectMany(s => s.Split('\n').Select(l => l.TrimEnd('\r')).Append(s))
            .Where(v => v.Trim().Length >= ShortestMasked)
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(v => v.Length);
        var text = new StringBuilder(log);
        foreach (var value in values)
        {
            text.Replace(value, Mask);
        }

        return GitHubToken().Replace(text.ToString(), Mask);
    }

    /// <summary>The last <see cref="Lines"/> lines of <paramref name="log"/>, cut from the front to <see cref="MaxBytes"/> characters.</summary>
    public static string Tail(string log)
    {
        var lines = log.TrimEnd('\n').Split('\n');
        var tail = string.Join('\n', lines.Length > Lines ? lines[^Lines..] : lines);
        return tail.Length <= MaxBytes ? tail : tail[^MaxBytes..];
    }

    /// <summary>
    /// The log as the end of a check's output text: where it came from, then a code fence longer than any run of
    /// backticks in the log, so no line of it can close the fence and be read as markdown; at most
    /// <paramref name="room"/> characters, shortened from the log's front.
    /// </summary>
    public static string Markdown(RunLog log, int room)
    {
        var heading = $"The last lines of the log of pod `{Plain(log.Pod)}`, container `{Plain(log.Container)}`:";
        if (log.Text is not { } text)
        {
            return $"{heading} not shown: {log.Withheld}";
        }

        var fence = new string('`', Math.Max(3, LongestBacktickRun(text) + 1));
        var frame = heading.Length + 2 * fence.Length + 6;
        if (frame >= room)
        {
            return "";
        }

        var body = text.Length <= room - frame ? text : "…" + text[^(room - frame - 1)..];
        return $"{heading}\n\n{fence}\n{body}\n{fence}\n";
    }

    private static int LongestBacktickRun(string text)
    {
        int longest = 0, run = 0;
        foreach (var c in text)
        {
            run = c == '`' ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        return longest;
    }

    /// <summary>A name from the cluster, inside backticks: no backtick or line break of it survives.</summary>
    private static string Plain(string name) => name.Replace('`', '\'').Replace('\n', ' ').Replace('\r', ' ');

    // GitHub's token formats: ghp_ (personal), gho_ (OAuth), ghu_ (user-to-server), ghs_ (installation), ghr_
    // (refresh), and fine-grained personal tokens github_pat_.
    [GeneratedRegex(@"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})", RegexOptions.CultureInvariant)]
    private static partial Regex GitHubToken();
}

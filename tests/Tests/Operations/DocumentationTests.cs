using System.Text;
using System.Text.RegularExpressions;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Operations;

/// <summary>The README and the pages under docs/ as a reader meets them: short where it starts, and no link that leads nowhere.</summary>
public partial class DocumentationTests
{
    private static IEnumerable<string> Pages() =>
        Directory.GetFiles(Path.Combine(RepositoryFiles.Root, "docs"), "*.md").Prepend(Path.Combine(RepositoryFiles.Root, "README.md"));

    [Fact]
    public void The_readme_is_read_in_five_minutes_and_leaves_the_rest_to_docs()
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryFiles.Root, "README.md"));

        Assert.True(lines.Length <= 200, $"README.md has {lines.Length} lines; move details to docs/");
    }

    [Fact]
    public void Every_relative_link_and_anchor_in_the_readme_and_docs_leads_to_a_file_and_heading_that_exist()
    {
        var broken = new List<string>();
        var checkedLinks = 0;
        foreach (var page in Pages())
        {
            foreach (var target in Links(File.ReadAllText(page)).Where(t => !Regex.IsMatch(t, "^[a-z][a-z0-9+.-]*:", RegexOptions.IgnoreCase)))
            {
                checkedLinks++;
                var hash = target.IndexOf('#', StringComparison.Ordinal);
                var (path, anchor) = hash < 0 ? (target, null) : (target[..hash], target[(hash + 1)..]);
                var file = path.Length == 0 ? page : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, Uri.UnescapeDataString(path)));
                var where = $"{Path.GetRelativePath(RepositoryFiles.Root, page)}: ({target})";
                if (!File.Exists(file) && !Directory.Exists(file))
                {
                    broken.Add($"{where}: no such file");
                }
                else if (anchor is not null && file.EndsWith(".md", StringComparison.Ordinal) && !Anchors(File.ReadAllText(file)).Contains(anchor))
                {
                    broken.Add($"{where}: no heading with the anchor #{anchor} in {Path.GetFileName(file)}");
                }
            }
        }

        Assert.True(checkedLinks > 50, $"only {checkedLinks} relative links found: is the link pattern still right?");
        Assert.True(broken.Count == 0, string.Join('\n', broken));
    }

    /// <summary>Targets of <c>[text](target)</c> and <c>![alt](target)</c> outside code blocks and code spans.</summary>
    private static IEnumerable<string> Links(string markdown) =>
        Prose(markdown).SelectMany(line => LinkPattern().Matches(CodeSpanPattern().Replace(line, "")).Select(m => m.Groups["target"].Value));

    /// <summary>GitHub's anchors for the page's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered.</summary>
    private static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        foreach (var heading in Prose(markdown).Select(l => HeadingPattern().Match(l)).Where(m => m.Success))
        {
            var slug = new StringBuilder();
            foreach (var c in heading.Groups["title"].Value.Trim().ToLowerInvariant())
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_')
                {
                    slug.Append(c);
                }
                else if (c == ' ')
                {
                    slug.Append('-');
                }
            }

            var anchor = slug.ToString();
            for (var n = 1; !anchors.Add(anchor); n++)
            {
                anchor = $"{slug}-{n}";
            }
        }

        return anchors;
    }

    /// <summary>The page's lines outside fenced code blocks.</summary>
    private static IEnumerable<string> Prose(string markdown)
    {
        var fenced = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                fenced = !fenced;
            }
            else if (!fenced)
            {
                yield return line;
            }
        }
    }

    [GeneratedRegex(@"!?\[[^\]]*\]\((?<target>[^)\s]+)\)")]
    private static partial Regex LinkPattern();

    [GeneratedRegex("`[^`]*`")]
    private static partial Regex CodeSpanPattern();

    [GeneratedRegex(@"^#{1,6} (?<title>.+)$")]
    private static partial Regex HeadingPattern();
}

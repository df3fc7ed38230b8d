using CiTrigger.Grains.Manifests;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>The globs of pipeline rules: '*' within a directory, '**' across them, '?' one character, the rest literal.</summary>
public class GlobTests
{
    [Theory]
    [InlineData("*", "a.md", true)]
    [InlineData("*", "", true)]
    [InlineData("*", "docs/a.md", false)]
    [InlineData("*.md", "a.md", true)]
    [InlineData("*.md", "a.mdx", false)]
    [InlineData("*.md", "x/a.md", false)]
    [InlineData("**", "x/y/a.md", true)]
    [InlineData("**", "", true)]
    [InlineData("?", "a", true)]
    [InlineData("?", "", false)]
    [InlineData("?", "ab", false)]
    [InlineData("?", "/", false)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "a/c", false)]
    [InlineData("docs/**", "docs/a.md", true)]
    [InlineData("docs/**", "docs/x/y.md", true)]
    [InlineData("docs/**", "docs", false)]
    [InlineData("docs/**", "documents/a.md", false)]
    [InlineData("docs/**", "src/docs/a.md", false)]
    [InlineData("docs/*", "docs/x/y.md", false)]
    [InlineData("**/*.md", "a.md", true)]
    [InlineData("**/*.md", "x/a.md", true)]
    [InlineData("**/*.md", "x/y/z/a.md", true)]
    [InlineData("**/*.md", "x/a.txt", false)]
    [InlineData("**/*.md", "x/a.md/b", false)]
    [InlineData("src/**/test/*.cs", "src/test/a.cs", true)]
    [InlineData("src/**/test/*.cs", "src/a/b/test/a.cs", true)]
    [InlineData("src/**/test/*.cs", "src/a/b/test/c/a.cs", false)]
    [InlineData("services/api/**", "services/api/main.go", true)]
    [InlineData("services/api/**", "services/api/internal/x.go", true)]
    [InlineData("services/api/**", "services/apix/main.go", false)]
    [InlineData("services/api/**", "services/web/main.go", false)]
    [InlineData("a.b", "a.b", true)]
    [InlineData("a.b", "axb", false)]
    [InlineData("(a)+[b]{2}$^\\", "(a)+[b]{2}$^\\", true)]
    [InlineData("(a)+[b]{2}$^\\", "aab", false)]
    [InlineData("README.md", "readme.md", false)]
    [InlineData("README.md", "README.md", true)]
    [InlineData("README.md", "x/README.md", false)]
    [InlineData("v*", "v1.2.0", true)]
    [InlineData("release/*", "release/1.x", true)]
    [InlineData("release/*", "release/1.x/hotfix", false)]
    [InlineData("***", "a/b", true)]
    [InlineData("a*b*c", "a-b-b-c", true)]
    [InlineData("a*b*c", "a-b-b-d", false)]
    [InlineData("", "", true)]
    [InlineData("", "a", false)]
    public void A_glob_matches_the_whole_path(string glob, string path, bool matches) => Assert.Equal(matches, Glob.IsMatch(glob, path));

    [Fact]
    public void Many_stars_against_a_long_path_that_does_not_match_finish()
    {
        var glob = string.Concat(Enumerable.Repeat("*a", 200)) + "b";
        var path = new string('a', 4096);

        Assert.False(Glob.IsMatch(glob, path));
        Assert.False(Glob.IsMatch(string.Concat(Enumerable.Repeat("**/", 200)) + "b", string.Concat(Enumerable.Repeat("a/", 2000))));
    }
}

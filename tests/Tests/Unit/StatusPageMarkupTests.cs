using CiTrigger.Gateway.Forges.GitHub;
using CiTrigger.Gateway.Ui;
using CiTrigger.Grains.Abstractions;
using Microsoft.Extensions.Options;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>The status page's markup builder and its links.</summary>
public class StatusPageMarkupTests
{
    private static GitHubLinks Links(string? baseUrl = null, string? target = null) =>
        new(Options.Create(new GitHubLinkOptions { BaseUrl = baseUrl, StatusTargetUrl = target }));

    [Fact]
    public void Every_value_is_encoded_while_literals_and_markup_stay_as_written()
    {
        const string Value = "\"><script>alert('x')</script>&";
        var inner = Html.Of($"<b>{Value}</b>");

        var html = Html.Of($"<a title=\"{Value}\">{inner}{42}</a>");

        Assert.Equal("<a title=\"&quot;&gt;&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;\"><b>&quot;&gt;&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;</b>42</a>", html.Markup);
    }

    [Fact]
    public void Text_outside_ascii_stays_readable()
    {
        Assert.Equal("<p>größe … 日本</p>", Html.Of($"<p>{"größe … 日本"}</p>").Markup);
    }

    [Theory]
    [InlineData(null, "https://github.com/")]
    [InlineData("https://api.github.com/", "https://github.com/")]
    [InlineData("https://github.example.com/api/v3/", "https://github.example.com/")]
    [InlineData("https://github.example.com", "https://github.example.com/")]
    [InlineData("http://127.0.0.1:5000/", "http://127.0.0.1:5000/")]
    public void Commit_links_go_to_the_web_host_of_the_configured_api(string? baseUrl, string web)
    {
        var sha = new string('a', 40);

        Assert.Equal(new Uri(web + "octo/app/commit/" + sha), Links(baseUrl).Commit("octo/app", sha));
    }

    [Fact]
    public void Only_commit_names_are_linked_and_only_http_targets_become_links()
    {
        var first = new AppliedObject("argoproj.io/v1alpha1", "Workflow", "ci", "ci-x7k2p", "created");

        Assert.Null(Links().Commit("octo/app", new string('0', 40)));
        Assert.Null(Links().Commit("octo/app", "main"));
        Assert.Equal(new Uri("https://argo.example.com/workflows/ci/ci-x7k2p"),
            Links(target: "https://argo.example.com/workflows/{namespace}/{name}").Target("d", "octo/app:refs/heads/main", "octo/app", "refs/heads/main", "", first));
        Assert.Null(Links(target: "javascript:alert('{name}')").Target("d", "k", "octo/app", "refs/heads/main", "", first));
    }

    [Theory]
    [InlineData("refs/heads/feature/x", "feature/x")]
    [InlineData("refs/tags/v1.2", "tag v1.2")]
    [InlineData("refs/pull/12/head", "PR #12")]
    [InlineData("refs/notes/commits", "refs/notes/commits")]
    public void Refs_read_the_way_people_name_them(string gitRef, string shown)
    {
        Assert.Equal(shown, Format.Ref(gitRef));
    }
}

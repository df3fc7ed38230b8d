using CiTrigger.Silo.Cli;
using CiTrigger.Tests.Fakes;
using Xunit;

namespace CiTrigger.Tests.Operations;

/// <summary><c>hooks install</c> and <c>hooks list</c> against the fake GitHub's webhook endpoints.</summary>
public sealed class HooksCommandTests : IAsyncLifetime
{
    private const string Url = "https://ci.example.com/webhooks/github";
    private FakeGitHubApi github = null!;

    public async ValueTask InitializeAsync() => github = await FakeGitHubApi.StartAsync();

    public async ValueTask DisposeAsync() => await github.DisposeAsync();

    private async Task<(int Exit, string Output, string Error)> Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await Commands.RunAsync([.. args, $"--GitHub:BaseUrl={github.BaseAddress}", "--token", FakeGitHubApi.Token], output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Install_creates_a_signed_json_webhook_for_the_handled_events_and_prints_its_id()
    {
        var repo = github.Repo("octo/hooked");

        var (exit, output, _) = await Run("hooks", "install", "--repo", repo.FullName, "--url", Url, "--Webhook:Secrets=first, second");

        Assert.Equal(0, exit);
        var hook = Assert.Single(repo.Hooks.All);
        Assert.Equal(hook.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), output.Trim());
        Assert.Equal((Url, "json", "first", true), (hook.Url, hook.ContentType, hook.Secret, hook.Active));
        Assert.Equal(["push", "delete", "check_run", "check_suite"], hook.Events);
    }

    [Fact]
    public async Task Installing_again_with_the_same_url_updates_that_webhook_in_place()
    {
        var repo = github.Repo("octo/hooked-again");
        var (_, first, _) = await Run("hooks", "install", "--repo", repo.FullName, "--url", Url, "--Webhook:Secrets=old");

        var (exit, second, error) = await Run("hooks", "install", "--repo", repo.FullName, "--url", Url, "--events", "push,pull_request", "--Webhook:Secrets=new");

        Assert.Equal(0, exit);
        Assert.Equal(first, second);
        Assert.StartsWith("updated webhook", error, StringComparison.Ordinal);
        var hook = Assert.Single(repo.Hooks.All);
        Assert.Equal(["push", "pull_request"], hook.Events);
        Assert.Equal("new", hook.Secret);
    }

    [Fact]
    public async Task Install_works_for_an_organization()
    {
        var org = github.Org("octo-org");

        var (exit, output, _) = await Run("hooks", "install", "--org", "octo-org", "--url", Url, "--Webhook:Secrets=s");

        Assert.Equal(0, exit);
        Assert.Equal(Assert.Single(org.Hooks.All).Id.ToString(System.Globalization.CultureInfo.InvariantCulture), output.Trim());
    }

    [Theory]
    [InlineData(404, "GitHub answered 404 for repository octo/hidden: it does not exist, or the token cannot see its webhooks (that takes admin rights on it)")]
    [InlineData(403, "GitHub answered 403 for repository octo/hidden: the token may not manage its webhooks")]
    public async Task A_refusal_from_github_is_explained_in_one_line(int status, string explanation)
    {
        github.Repo("octo/hidden").HookRefusal = status;

        var (exit, output, error) = await Run("hooks", "install", "--repo", "octo/hidden", "--url", Url, "--Webhook:Secrets=s");

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.StartsWith("hooks install: " + explanation, error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task Install_without_a_webhook_secret_refuses_to_create_an_unsigned_webhook()
    {
        var repo = github.Repo("octo/unsigned");

        var (exit, _, error) = await Run("hooks", "install", "--repo", repo.FullName, "--url", Url, "--Webhook:Secrets=");

        Assert.Equal(2, exit);
        Assert.Contains("no webhook secret is configured", error, StringComparison.Ordinal);
        Assert.Empty(repo.Hooks.All);
    }

    [Fact]
    public async Task Install_refuses_an_unknown_event_name_in_one_line_and_creates_nothing()
    {
        var repo = github.Repo("octo/misspelt");

        var (exit, output, error) = await Run("hooks", "install", "--repo", repo.FullName, "--url", Url, "--events", "push,bogus", "--Webhook:Secrets=s");

        Assert.Equal(2, exit);
        Assert.Empty(output);
        var line = Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith("hooks install: --events: 'bogus' is not an event the service handles (known: push, ", line, StringComparison.Ordinal);
        Assert.Empty(repo.Hooks.All);
    }

    [Fact]
    public async Task List_shows_each_webhook_with_its_last_delivery()
    {
        var repo = github.Repo("octo/listed");
        await Run("hooks", "install", "--repo", repo.FullName, "--url", Url, "--Webhook:Secrets=s");
        var hook = Assert.Single(repo.Hooks.All);
        hook.Deliveries.Add("push", "{}", 200, github.Time.GetUtcNow().AddMinutes(-2));
        hook.Deliveries.Add("delete", "{}", 503, github.Time.GetUtcNow().AddMinutes(-1));

        var (exit, output, _) = await Run("hooks", "list", "--repo", repo.FullName);

        Assert.Equal(0, exit);
        var line = Assert.Single(output.Trim().Split('\n'));
        Assert.StartsWith($"{hook.Id}\tactive\t{Url}\tpush,delete,check_run,check_suite\tlast delivery ", line, StringComparison.Ordinal);
        Assert.EndsWith("delete: 503", line, StringComparison.Ordinal);
    }
}

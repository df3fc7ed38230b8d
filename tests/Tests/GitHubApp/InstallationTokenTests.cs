using CiTrigger.Grains.GitHub;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Octokit;
using Xunit;

namespace CiTrigger.Tests.GitHubApp;

/// <summary>
/// The token cache against the fake GitHub over HTTP; the service and the fake share one fake clock, so
/// expiry is exercised without waiting and without the wall clock.
/// </summary>
public sealed class InstallationTokenTests : IAsyncLifetime
{
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
    private FakeGitHubApi github = null!;
    private AppIdentity app = null!;
    private InstallationTokens tokens = null!;
    private GitHubAccess access = null!;

    public async ValueTask InitializeAsync()
    {
        github = await FakeGitHubApi.StartAsync(time);
        app = AppIdentity.Register(github);
        github.Install(app.App, 21, "octo/tokens");
        github.Install(app.App, 22, "octo/tokens-b");
        github.Repo("octo/tokens").Commit("main", ".ci/workflow.yaml", "kind: X");
        var options = new GitHubOptions { BaseUrl = github.BaseAddress.ToString() };
        var appClient = GitHubClientFactory.Create(options, new AppAuthentication(new GitHubAppJwt(app.Id, app.Key, time)), 1 << 20);
        tokens = new InstallationTokens(appClient, time, NullLogger<InstallationTokens>.Instance);
        access = new GitHubAccess(appClient, tokens, handler => GitHubClientFactory.Create(options, handler, 1 << 20), time);
    }

    public async ValueTask DisposeAsync()
    {
        app.Dispose();
        await github.DisposeAsync();
    }

    [Fact]
    public async Task Concurrent_callers_of_one_installation_share_one_token_request()
    {
        var all = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => tokens.GetAsync(21, CancellationToken.None))));

        Assert.Single(all.Select(t => t.Token).Distinct());
        Assert.Single(github.TokenRequests);
    }

    [Fact]
    public async Task Each_installation_has_a_token_of_its_own()
    {
        var a = await tokens.GetAsync(21, CancellationToken.None);
        var b = await tokens.GetAsync(22, CancellationToken.None);

        Assert.NotEqual(a.Token, b.Token);
        Assert.Equal(["/api/v3/app/installations/21/access_tokens", "/api/v3/app/installations/22/access_tokens"], github.TokenRequests.Select(r => r.Path));
    }

    [Fact]
    public async Task A_token_is_kept_until_five_minutes_before_it_expires_and_then_replaced()
    {
        var first = await tokens.GetAsync(21, CancellationToken.None);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromHours(1), first.ExpiresAt);

        time.Advance(TimeSpan.FromMinutes(55) - TimeSpan.FromSeconds(1));
        Assert.Equal(first.Token, (await tokens.GetAsync(21, CancellationToken.None)).Token);
        Assert.Single(github.TokenRequests);

        time.Advance(TimeSpan.FromSeconds(2));
        var second = await tokens.GetAsync(21, CancellationToken.None);
        Assert.NotEqual(first.Token, second.Token);
        Assert.Equal(2, github.TokenRequests.Count);
    }

    [Fact]
    public async Task A_failed_token_request_is_not_kept()
    {
        var failure = await Assert.ThrowsAsync<GitHubAppException>(() => tokens.GetAsync(23, CancellationToken.None));
        Assert.True(failure.Permanent);

        github.Install(app.App, 23, "octo/tokens-c");
        var token = await tokens.GetAsync(23, CancellationToken.None);

        Assert.StartsWith("ghs_", token.Token, StringComparison.Ordinal);
        Assert.Equal([404, 201], github.TokenRequests.Select(r => r.Status));
    }

    [Fact]
    public async Task A_call_refused_with_401_gets_a_new_token_and_is_sent_again_once()
    {
        var client = await access.ForRepositoryAsync("octo/tokens", 21, CancellationToken.None);
        Assert.NotNull(await client.Repository.Content.GetRawContentByRef("octo", "tokens", ".ci/workflow.yaml", "main"));

        github.ExpireTokens();
        Assert.NotNull(await client.Repository.Content.GetRawContentByRef("octo", "tokens", ".ci/workflow.yaml", "main"));

        Assert.Equal([200, 401, 200], github.ContentRequests.Select(r => r.Status));
        Assert.Equal(2, github.TokenRequests.Count);
    }

    [Fact]
    public async Task A_call_refused_again_with_the_new_token_fails_without_a_third_try()
    {
        github.TokenLifetime = TimeSpan.Zero;
        var client = await access.ForRepositoryAsync("octo/tokens", 21, CancellationToken.None);

        await Assert.ThrowsAsync<AuthorizationException>(() => client.Repository.Content.GetRawContentByRef("octo", "tokens", ".ci/workflow.yaml", "main"));

        Assert.Equal([401, 401], github.ContentRequests.Select(r => r.Status));
        Assert.Equal(2, github.TokenRequests.Count);
    }

    [Fact]
    public async Task A_read_only_token_of_one_repository_is_asked_for_each_time_and_never_replaces_or_becomes_the_shared_one()
    {
        var shared = await tokens.GetAsync(21, CancellationToken.None);

        var first = await access.ReadOnlyTokenAsync("octo/tokens", 21, CancellationToken.None);
        var second = await access.ReadOnlyTokenAsync("octo/tokens", null, CancellationToken.None);

        Assert.Equal(3, new[] { shared.Token, first.Token, second.Token }.Distinct().Count());
        Assert.Equal(shared.Token, (await tokens.GetAsync(21, CancellationToken.None)).Token);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromHours(1), first.ExpiresAt);
        Assert.Equal(2, github.RestrictedTokenRequests.Count);
        Assert.All(github.RestrictedTokenRequests, r =>
        {
            Assert.Equal("/api/v3/app/installations/21/access_tokens", r.Path);
            Assert.Equal("""{"repositories":["tokens"],"permissions":{"contents":"read"}}""", r.Body);
        });
        Assert.Single(github.UnrestrictedTokenRequests);
    }

    [Fact]
    public async Task A_read_only_token_github_refuses_fails_for_good_and_an_unknown_installation_too()
    {
        // Installation 21 does not hold octo/tokens-b: GitHub answers 422.
        var refused = await Assert.ThrowsAsync<GitHubAppException>(() => access.ReadOnlyTokenAsync("octo/tokens-b", 21, CancellationToken.None));
        var gone = await Assert.ThrowsAsync<GitHubAppException>(() => access.ReadOnlyTokenAsync("octo/tokens", 99, CancellationToken.None));

        Assert.True(refused.Permanent && gone.Permanent);
        Assert.StartsWith("GitHub refused a read-only token of tokens-b for installation 21: 422 There is at least one repository", refused.Message, StringComparison.Ordinal);
        Assert.Equal("installation 99 of the GitHub App does not exist (was the App uninstalled?)", gone.Message);
        Assert.Equal([422, 404], github.TokenRequests.Select(r => r.Status));
    }

    [Fact]
    public async Task A_repository_without_an_installation_in_the_event_is_looked_up_once()
    {
        var first = await access.ForRepositoryAsync("octo/tokens-b", null, CancellationToken.None);
        var second = await access.ForRepositoryAsync("octo/tokens-b", null, CancellationToken.None);

        Assert.Same(first, second);
        Assert.Same(first, access.ForInstallation(22));
        Assert.Single(github.Requests, r => r.Path == "/api/v3/repos/octo/tokens-b/installation");
    }
}

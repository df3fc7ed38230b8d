using System.Net;
using System.Net.Http.Headers;
using CiTrigger.Gateway.Admin;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace CiTrigger.Tests.EndToEnd;

/// <summary>A browser's way into the admin surface: sign in once with the token, then a session cookie.</summary>
public class AdminLoginTests
{
    private const string Token = "admin-token-0123456789";

    /// <summary>A client that shows redirects and cookies as they are, like a browser's network tab.</summary>
    private static HttpClient Browser(IsolatedService env) =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = env.Service.Client.BaseAddress };

    private static HttpRequestMessage Request(HttpMethod method, string path, string? cookie = null, string? origin = "self", HttpContent? content = null, Uri? self = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", $"{AdminAccess.CookieName}={cookie}");
        }

        if (origin is not null)
        {
            request.Headers.Add("Origin", origin == "self" ? self!.GetLeftPart(UriPartial.Authority) : origin);
        }

        return request;
    }

    private static FormUrlEncodedContent Form(string token, string returnUrl = "/dashboard/") =>
        new([new("token", token), new("returnUrl", returnUrl)]);

    /// <summary>The session cookie's value from a Set-Cookie header, with the header's attributes.</summary>
    private static (string Value, string Header) SessionCookie(HttpResponseMessage response)
    {
        var header = Assert.Single(response.Headers.GetValues("Set-Cookie"), h => h.StartsWith(AdminAccess.CookieName + "=", StringComparison.Ordinal));
        return (header[(AdminAccess.CookieName.Length + 1)..header.IndexOf(';', StringComparison.Ordinal)], header);
    }

    [Fact]
    public async Task A_browser_signs_in_with_the_token_and_then_uses_the_dashboard_and_the_admin_API_with_its_cookie()
    {
        await using var env = await IsolatedService.StartAsync(new Dictionary<string, string> { ["Admin:Token"] = Token });
        using var browser = Browser(env);
        var self = browser.BaseAddress!;

        using var toLogin = await browser.SendAsync(Request(HttpMethod.Get, "/dashboard/", origin: null));
        using var page = await browser.SendAsync(Request(HttpMethod.Get, toLogin.Headers.Location!.ToString(), origin: null));
        var html = await page.Content.ReadAsStringAsync();
        using var wrong = await browser.SendAsync(Request(HttpMethod.Post, "/admin/login", content: Form("not-the-token-0123456789"), self: self));
        using var signedIn = await browser.SendAsync(Request(HttpMethod.Post, "/admin/login", content: Form(Token), self: self));
        var (cookie, setCookie) = SessionCookie(signedIn);
        using var dashboard = await browser.SendAsync(Request(HttpMethod.Get, "/dashboard/", cookie, origin: null));
        using var refs = await browser.SendAsync(Request(HttpMethod.Get, "/admin/refs", cookie, origin: null));
        using var action = await browser.SendAsync(Request(HttpMethod.Post, "/admin/repos/octo/app/pause", cookie, self: self));
        using var forged = await browser.SendAsync(Request(HttpMethod.Get, "/admin/refs", cookie[..^1] + (cookie[^1] == '0' ? '1' : '0'), origin: null));
        using var signedOut = await browser.SendAsync(Request(HttpMethod.Post, "/admin/logout", cookie, self: self));

        Assert.Equal(HttpStatusCode.Redirect, toLogin.StatusCode);
        Assert.Equal("/admin/login?returnUrl=%2Fdashboard%2F", toLogin.Headers.Location!.ToString());
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("name=\"token\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"/dashboard/\"", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.False(wrong.Headers.Contains("Set-Cookie"));
        Assert.Equal((HttpStatusCode.Redirect, "/dashboard/"), (signedIn.StatusCode, signedIn.Headers.Location!.ToString()));
        Assert.Contains("; secure", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("; httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("; samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("; path=/;", setCookie + ";", StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Token, Uri.UnescapeDataString(cookie), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Equal(HttpStatusCode.OK, refs.StatusCode);
        Assert.Equal(HttpStatusCode.OK, action.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        Assert.Equal("", SessionCookie(signedOut).Value);
    }

    [Theory]
    [InlineData("https://evil.example", null)]
    [InlineData(null, "cross-site")]
    [InlineData(null, "same-site")]
    [InlineData(null, null)]
    public async Task A_sign_in_or_an_admin_action_with_the_cookie_from_another_site_is_refused(string? origin, string? fetchSite)
    {
        await using var env = await IsolatedService.StartAsync(new Dictionary<string, string> { ["Admin:Token"] = Token });
        using var browser = Browser(env);
        var self = browser.BaseAddress!;
        using var signedIn = await browser.SendAsync(Request(HttpMethod.Post, "/admin/login", content: Form(Token), self: self));
        var (cookie, _) = SessionCookie(signedIn);
        HttpRequestMessage CrossSite(HttpRequestMessage request)
        {
            if (fetchSite is not null)
            {
                request.Headers.Add("Sec-Fetch-Site", fetchSite);
            }

            return request;
        }

        using var login = await browser.SendAsync(CrossSite(Request(HttpMethod.Post, "/admin/login", origin: origin, content: Form(Token))));
        using var action = await browser.SendAsync(CrossSite(Request(HttpMethod.Post, "/admin/repos/octo/app/pause", cookie, origin: origin)));
        using var bearer = CrossSite(Request(HttpMethod.Post, "/admin/repos/octo/app/resume", origin: origin));
        bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var withBearer = await browser.SendAsync(bearer);

        Assert.Equal(HttpStatusCode.Forbidden, login.StatusCode);
        Assert.False(login.Headers.Contains("Set-Cookie"));
        Assert.Equal(HttpStatusCode.Forbidden, action.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withBearer.StatusCode);
    }

    [Fact]
    public async Task Without_a_token_there_is_no_login_and_no_cookie_opens_anything()
    {
        await using var env = await IsolatedService.StartAsync();
        using var browser = Browser(env);

        using var page = await browser.SendAsync(Request(HttpMethod.Get, "/admin/login", origin: null));
        using var login = await browser.SendAsync(Request(HttpMethod.Post, "/admin/login", content: Form(Token), self: browser.BaseAddress));

        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, login.StatusCode);
        Assert.False(login.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task Wrong_tokens_are_logged_and_after_a_few_every_sign_in_from_that_address_must_wait()
    {
        var log = new ListLoggerProvider();

        // The limiter's own clock stands still: its refills are the test's to make, not the VM's (whose clock can jump).
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var github = await FakeGitHubApi.StartAsync();
        await using var service = await TriggerHost.StartAsync(github, null, new Dictionary<string, string>
        {
            ["Admin:Token"] = Token,
            ["Logging:LogLevel:CiTrigger.Gateway.Admin"] = "Warning",
        }, builder =>
        {
            builder.Logging.AddProvider(log);
            builder.Services.AddSingleton(sp => new FailedSignIns(clock, sp.GetRequiredService<ILogger<FailedSignIns>>()));
        });
        using var browser = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = service.Client.BaseAddress };
        var self = browser.BaseAddress!;
        HttpRequestMessage SignIn(string token) => Request(HttpMethod.Post, "/admin/login", content: Form(token), self: self);
        HttpRequestMessage Bearer(string token)
        {
            var request = Request(HttpMethod.Get, "/admin/refs", origin: null);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return request;
        }

        using var right = await browser.SendAsync(SignIn(Token));
        var wrong = new List<HttpResponseMessage>();
        foreach (var request in new[] { SignIn("guess-0123456789-1"), SignIn("guess-0123456789-2"), SignIn("guess-0123456789-3"), Bearer("guess-0123456789-4"),
            Bearer("guess-0123456789-5"), Bearer("guess-0123456789-6"), SignIn("guess-0123456789-7") })
        {
            wrong.Add(await browser.SendAsync(request));
        }

        using var rightWhileWaiting = await browser.SendAsync(SignIn(Token));
        using var bearerWhileWaiting = await browser.SendAsync(Bearer(Token));

        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        Assert.Equal(
            [.. Enumerable.Repeat(HttpStatusCode.Unauthorized, FailedSignIns.Burst), HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests],
            wrong.Select(r => r.StatusCode));
        Assert.InRange(wrong[^1].Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), FailedSignIns.Refill);
        Assert.Equal((HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests), (rightWhileWaiting.StatusCode, bearerWhileWaiting.StatusCode));
        var lines = log.Entries.Select(e => e.Message).ToList();
        Assert.Contains(lines, l => l.StartsWith("Failed admin sign-in (login form) from 127.0.0.1; 1 since start", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Failed admin sign-in (bearer token) from 127.0.0.1; 5 since start", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Admin sign-ins from 127.0.0.1 are refused for ", StringComparison.Ordinal));
        wrong.ForEach(r => r.Dispose());

        // One period later the address may try once more, and a right token signs in.
        clock.Advance(FailedSignIns.Refill);
        using var rightAfterWaiting = await browser.SendAsync(SignIn(Token));
        Assert.Equal(HttpStatusCode.Redirect, rightAfterWaiting.StatusCode);
    }

    [Theory]
    [InlineData("//evil.example/x")]
    [InlineData("/\\evil.example")]
    [InlineData("https://evil.example/")]
    public async Task The_login_only_returns_to_a_path_of_this_service(string returnUrl)
    {
        await using var env = await IsolatedService.StartAsync(new Dictionary<string, string> { ["Admin:Token"] = Token });
        using var browser = Browser(env);

        using var signedIn = await browser.SendAsync(Request(HttpMethod.Post, "/admin/login", content: Form(Token, returnUrl), self: browser.BaseAddress));

        Assert.Equal((HttpStatusCode.Redirect, "/dashboard/"), (signedIn.StatusCode, signedIn.Headers.Location!.ToString()));
    }
}

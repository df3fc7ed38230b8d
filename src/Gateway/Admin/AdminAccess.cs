using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace CiTrigger.Gateway.Admin;

/// <summary>
/// The admin rule of the design, for every admin-protected path (<c>/admin</c>, <c>/ui</c>, <c>/dashboard</c>):
/// with <c>Admin:Token</c> set, every caller must present it, as a bearer token or as the session cookie a
/// browser gets from <c>/admin/login</c>; without one, only loopback callers are served, and only requests
/// no web page can have made (see <see cref="CheckLoopback"/>).
/// </summary>
public sealed class AdminAccess(IOptions<AdminOptions> options, FailedSignIns failures, TimeProvider time)
{
    public const string CookieName = "citrigger_admin";
    public const string LoginPath = "/admin/login";

    /// <summary>How long a browser session lasts; changing <c>Admin:Token</c> ends every session at once.</summary>
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromHours(12);

    public bool HasToken => options.Value.Token is { Length: > 0 };

    /// <summary>Null when the caller may proceed, otherwise the answer to give.</summary>
    public IResult? Check(HttpContext http)
    {
        if (options.Value.Token is not { Length: > 0 } token)
        {
            return CheckLoopback(http);
        }

        var request = http.Request;
        var header = request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        if (header.Length > 0 || request.Cookies[CookieName] is not { } session)
        {
            if (header.Length > 0 && failures.Wait(http) is { } wait)
            {
                return FailedSignIns.TooMany(http, wait);
            }

            var presented = header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? header[Scheme.Length..].Trim() : "";
            if (Matches(presented))
            {
                return null;
            }

            if (header.Length > 0)
            {
                failures.Failed(http, "bearer token");
            }

            if (header.Length == 0 && HttpMethods.IsGet(request.Method) && AcceptsHtml(request))
            {
                // A browser without a session: to the login, and back here afterwards.
                return Results.Redirect($"{LoginPath}?returnUrl={Uri.EscapeDataString(request.PathBase + request.Path + request.QueryString)}");
            }

            http.Response.Headers.WWWAuthenticate = "Bearer";
            return AdminResults.Refused(StatusCodes.Status401Unauthorized, "a valid bearer token (Admin:Token) is required");
        }

        if (!IsValidSession(session, token))
        {
            return AdminResults.Refused(StatusCodes.Status401Unauthorized, $"the admin session has expired or is not valid; sign in again at {LoginPath}");
        }

        // A cookie travels with requests other sites make the browser send; SameSite=Strict stops that in
        // current browsers, and this stops it in the others.
        return HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || IsSameOrigin(request)
            ? null
            : AdminResults.Refused(StatusCodes.Status403Forbidden, "a cross-site request with the admin session cookie is refused");
    }

    /// <summary>
    /// Without a token, loopback trust: any program on the machine may use the admin surface, but a web page
    /// in a browser on it may not. A page of another site can make the browser send a request to loopback
    /// (a form post), so a request that says it comes from elsewhere (<c>Origin</c> of another host or port,
    /// <c>Sec-Fetch-Site</c> other than <c>same-origin</c> or <c>none</c>) may not change anything; and a page
    /// can rebind its own name to 127.0.0.1 and then read the answers as its own, which the <c>Host</c> it
    /// sends gives away: only loopback names and addresses are served. Programs (curl, scripts) send neither
    /// header and a loopback <c>Host</c>.
    /// </summary>
    private static IResult? CheckLoopback(HttpContext http)
    {
        var request = http.Request;
        if (http.Connection.RemoteIpAddress is not { } address || !IPAddress.IsLoopback(address))
        {
            return AdminResults.Refused(StatusCodes.Status403Forbidden, "without Admin:Token the admin API answers loopback callers only");
        }

        if (!IsLoopbackHost(request.Host))
        {
            return AdminResults.Refused(StatusCodes.Status403Forbidden,
                "without Admin:Token the admin API answers only requests addressed to localhost or a loopback address (Host), so no web page can read it by DNS rebinding");
        }

        return HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || !IsCrossSite(request)
            ? null
            : AdminResults.Refused(StatusCodes.Status403Forbidden, "a request from another site's page is refused: without Admin:Token only this service's own pages and programs on this machine may change anything");
    }

    /// <summary><c>localhost</c>, a name under <c>.localhost</c> (which browsers resolve to loopback themselves), or a loopback address.</summary>
    private static bool IsLoopbackHost(HostString host) =>
        host.HasValue
        && (host.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || host.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Host.TrimStart('[').TrimEnd(']'), out var address) && IPAddress.IsLoopback(address)));

    /// <summary>Whether a browser says it sent <paramref name="request"/> for a page that is not this service's (a request saying nothing is not).</summary>
    private static bool IsCrossSite(HttpRequest request) =>
        request.Headers["Sec-Fetch-Site"].ToString() is { Length: > 0 } site && site is not ("same-origin" or "none")
        || (request.Headers.Origin.Count > 0 && !IsOwnOrigin(request));

    /// <summary>Whether <paramref name="presented"/> is the configured token (compared in constant time).</summary>
    public bool Matches(string presented) =>
        options.Value.Token is { Length: > 0 } token
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(token));

    /// <summary>Gives the browser a session: an expiry and an HMAC of it keyed by the token, never the token itself.</summary>
    public void StartSession(HttpResponse response)
    {
        var expires = time.GetUtcNow().Add(SessionLifetime).ToUnixTimeSeconds();
        response.Cookies.Append(CookieName, $"{expires}.{Mac(options.Value.Token!, expires)}", SessionCookie(SessionLifetime));
    }

    public static void EndSession(HttpResponse response) =>
        response.Cookies.Append(CookieName, "", SessionCookie(TimeSpan.Zero));

    /// <summary>
    /// Whether a browser sent <paramref name="request"/> from a page of this service: by <c>Sec-Fetch-Site</c>
    /// where the browser sends it, else by <c>Origin</c> (compared by host and port only, as a TLS-terminating
    /// ingress changes the scheme). A request with neither is not taken for same-origin.
    /// </summary>
    public static bool IsSameOrigin(HttpRequest request)
    {
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0)
        {
            return site is "same-origin" or "none";
        }

        return IsOwnOrigin(request);
    }

    /// <summary>Whether the <c>Origin</c> is this service's own host and port (not the scheme: a TLS-terminating ingress changes it).</summary>
    private static bool IsOwnOrigin(HttpRequest request) =>
        Uri.TryCreate(request.Headers.Origin.ToString(), UriKind.Absolute, out var origin)
        && string.Equals(origin.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);

    private bool IsValidSession(string session, string token)
    {
        var dot = session.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || !long.TryParse(session.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || expires <= time.GetUtcNow().ToUnixTimeSeconds()
            || expires > time.GetUtcNow().Add(SessionLifetime).ToUnixTimeSeconds())
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(session[(dot + 1)..]), Encoding.ASCII.GetBytes(Mac(token, expires)));
    }

    private static string Mac(string token, long expires) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(token), Encoding.ASCII.GetBytes($"citrigger-admin-session:{expires}")));

    private static bool AcceptsHtml(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase));

    private static CookieOptions SessionCookie(TimeSpan maxAge) => new()
    {
        Path = "/",
        Secure = true,
        HttpOnly = true,
        SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Strict,
        IsEssential = true,
        MaxAge = maxAge,
    };
}

/// <summary>Applies <see cref="AdminAccess"/> to an endpoint group.</summary>
public sealed class AdminAccessFilter(AdminAccess access) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        access.Check(context.HttpContext) ?? await next(context);
}

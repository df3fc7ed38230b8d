using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace CiTrigger.Gateway.Admin;

/// <summary>
/// The admin rule of the design, for every admin-protected path (<c>/admin</c>, <c>/dashboard</c>): with
/// <c>Admin:Token</c> set, every caller must present it, as a bearer token or as the session cookie a
/// browser gets from <c>/admin/login</c>; without one, only loopback callers are served.
/// </summary>
public sealed class AdminAccess(IOptions<AdminOptions> options, TimeProvider time)
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
            return http.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address)
                ? null
                : AdminResults.Refused(StatusCodes.Status403Forbidden, "without Admin:Token the admin API answers loopback callers only");
        }

        var request = http.Request;
        var header = request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        if (header.Length > 0 || request.Cookies[CookieName] is not { } session)
        {
            var presented = header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? header[Scheme.Length..].Trim() : "";
            if (Matches(presented))
            {
                return null;
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

        return Uri.TryCreate(request.Headers.Origin.ToString(), UriKind.Absolute, out var origin)
            && string.Equals(origin.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

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

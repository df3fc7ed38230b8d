using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace CiTrigger.Gateway.Admin;

/// <summary>
/// A browser cannot send a bearer header by itself, so it signs in once with the token and gets the
/// session cookie of <see cref="AdminAccess"/>; the dashboard and every other admin path accept it.
/// Without <c>Admin:Token</c> there is nothing to sign in with and the admin surface stays loopback-only.
/// </summary>
public static class AdminLogin
{
    private const string DefaultReturn = "/dashboard/";
    private const int MaxFormBytes = 16 * 1024;

    public static IEndpointRouteBuilder MapAdminLogin(this IEndpointRouteBuilder app)
    {
        app.MapGet(AdminAccess.LoginPath, Form);
        app.MapPost(AdminAccess.LoginPath, SignInAsync);
        app.MapPost("/admin/logout", SignOut);
        return app;
    }

    private static IResult Form(AdminAccess access, string? returnUrl) =>
        access.HasToken ? Page(StatusCodes.Status200OK, Local(returnUrl), null) : NoLogin();

    private static async Task<IResult> SignInAsync(HttpContext http, AdminAccess access, FailedSignIns failures)
    {
        if (!access.HasToken)
        {
            return NoLogin();
        }

        // Nobody signs in from another site's page: that would be a forged request, whatever its token.
        if (!AdminAccess.IsSameOrigin(http.Request))
        {
            return AdminResults.Refused(StatusCodes.Status403Forbidden, "a sign-in must come from the login page of this service");
        }

        if (!http.Request.HasFormContentType)
        {
            return AdminResults.Refused(StatusCodes.Status415UnsupportedMediaType, "expected a form (application/x-www-form-urlencoded)");
        }

        if (failures.Wait(http) is { } wait)
        {
            return FailedSignIns.TooMany(http, wait);
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = MaxFormBytes;
        }

        IFormCollection form;
        try
        {
            form = await http.Request.ReadFormAsync(http.RequestAborted);
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException or IOException)
        {
            return AdminResults.Refused(StatusCodes.Status400BadRequest, "the form could not be read");
        }

        var returnUrl = Local(form["returnUrl"].ToString());
        if (!access.Matches(form["token"].ToString()))
        {
            failures.Failed(http, "login form");
            return Page(StatusCodes.Status401Unauthorized, returnUrl, "That is not the admin token.");
        }

        access.StartSession(http.Response);
        return Results.Redirect(returnUrl);
    }

    private static IResult SignOut(HttpContext http)
    {
        if (!AdminAccess.IsSameOrigin(http.Request))
        {
            return AdminResults.Refused(StatusCodes.Status403Forbidden, "a sign-out must come from a page of this service");
        }

        AdminAccess.EndSession(http.Response);
        return Results.Redirect(AdminAccess.LoginPath);
    }

    /// <summary>Only a path of this service, so the login cannot be made to send a browser elsewhere.</summary>
    private static string Local(string? returnUrl) =>
        returnUrl is ['/', not '/' and not '\\', ..] && !returnUrl.Any(char.IsControl) ? returnUrl : DefaultReturn;

    private static IResult NoLogin() =>
        AdminResults.Refused(StatusCodes.Status404NotFound, "no Admin:Token is configured: the admin surface answers loopback callers only, without a login");

    private static IResult Page(int status, string returnUrl, string? error) => new LoginPage(status, returnUrl, error);

    private sealed class LoginPage(int status, string returnUrl, string? error) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            var headers = http.Response.Headers;
            headers.ContentSecurityPolicy = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; style-src 'unsafe-inline'";
            headers.CacheControl = "no-store";
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            http.Response.StatusCode = status;
            http.Response.ContentType = "text/html; charset=utf-8";
            var message = error is null ? "" : $"<p role=\"alert\" style=\"color:#b00\">{HtmlEncoder.Default.Encode(error)}</p>";
            return http.Response.WriteAsync($"""
                <!doctype html>
                <html lang="en">
                <meta charset="utf-8">
                <meta name="viewport" content="width=device-width">
                <title>k8s-webhook-handler: sign in</title>
                <body style="font-family:sans-serif;max-width:24rem;margin:4rem auto">
                <h1 style="font-size:1.2rem">k8s-webhook-handler admin</h1>
                {message}
                <form method="post" action="{AdminAccess.LoginPath}">
                <label>Admin token<br><input type="password" name="token" autocomplete="current-password" required autofocus style="width:100%"></label>
                <input type="hidden" name="returnUrl" value="{HtmlEncoder.Default.Encode(returnUrl)}">
                <p><button type="submit">Sign in</button></p>
                </form>
                </body>
                </html>
                """);
        }
    }
}

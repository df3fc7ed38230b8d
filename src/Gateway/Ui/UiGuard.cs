using Microsoft.AspNetCore.Http;

namespace CiTrigger.Gateway.Ui;

/// <summary>
/// Headers of every status page response: a content security policy that allows only the page's own
/// stylesheet and script (so even a value that escaped encoding could not run), no framing, no sniffing,
/// no caching of operator data.
/// </summary>
public sealed class UiHeaders : IEndpointFilter
{
    private const string Policy =
        "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var headers = context.HttpContext.Response.Headers;
        headers.ContentSecurityPolicy = Policy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "same-origin";
        // The same words antiforgery sets on pages with a form, so it has nothing to override.
        headers.CacheControl = "no-cache, no-store";
        headers.Pragma = "no-cache";
        return next(context);
    }
}

using CiTrigger.Gateway.Forges.GitHub;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;

namespace CiTrigger.Gateway.Ui;

/// <summary>What the page handlers share: links, assets, the clock and the antiforgery tokens.</summary>
public sealed class UiPages(GitHubLinks links, UiAssets assets, TimeProvider time, IAntiforgery antiforgery)
{
    public PageContext Context(HttpContext http)
    {
        AntiforgeryTokenSet? tokens = null;
        return new PageContext(new UiPaths(http.Request.PathBase), links, assets, time.GetUtcNow(), () =>
        {
            // Issued on the first form of a page only, which also sets the cookie the token pairs with.
            tokens ??= antiforgery.GetAndStoreTokens(http);
            return (tokens.FormFieldName, tokens.RequestToken!);
        });
    }
}

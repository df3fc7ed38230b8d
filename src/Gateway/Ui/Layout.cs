using CiTrigger.Gateway.Forges.GitHub;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Gateway.Ui;

/// <summary>What every page is rendered with: its addresses, links, the time, and the form token.</summary>
public sealed class PageContext(UiPaths paths, GitHubLinks links, UiAssets assets, DateTimeOffset now, Func<(string Field, string Token)> formToken)
{
    public UiPaths Paths => paths;

    public GitHubLinks Links => links;

    public UiAssets Assets => assets;

    public DateTimeOffset Now => now;

    /// <summary>The hidden field that proves a form was served by this page (ASP.NET Core antiforgery).</summary>
    public Html FormToken()
    {
        var (field, token) = formToken();
        return Html.Of($"<input type=\"hidden\" name=\"{field}\" value=\"{token}\">");
    }

    /// <summary>The applied object's link through <c>GitHub:StatusTargetUrl</c>.</summary>
    public Uri? Target(HookEvent e, AppliedObject? first) => links.Target(e.Delivery, e.Key, e.Repository, e.Ref, e.Revision, first);
}

/// <summary>The frame of every page: head, skip link, navigation, main.</summary>
public static class Layout
{
    public static Html Page(PageContext page, string title, Html body) => Html.Of($"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{title} · CI trigger</title>
        <link rel="stylesheet" href="{page.Paths.Asset(UiAssets.Stylesheet, page.Assets.Version(UiAssets.Stylesheet))}">
        <script src="{page.Paths.Asset(UiAssets.Script, page.Assets.Version(UiAssets.Script))}" defer></script>
        </head>
        <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
        <nav aria-label="Main"><a class="brand" href="{page.Paths.Overview}">CI trigger</a> <a href="{page.Paths.Overview}">Recent events</a> <a href="{page.Paths.Repositories}">Repositories</a></nav>
        </header>
        <main id="main" tabindex="-1">
        {body}
        </main>
        </body>
        </html>
        """);

    /// <summary>A page that only says what went wrong (unknown ref, bad address, refused form).</summary>
    public static Html Message(PageContext page, string title, string message) =>
        Page(page, title, Html.Of($"<h1>{title}</h1><p class=\"notice notice-error\" role=\"alert\">{message}</p><p><a href=\"{page.Paths.Overview}\">Back to recent events</a></p>"));
}

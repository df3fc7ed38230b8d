using CiTrigger.Gateway.Admin;
using CiTrigger.Gateway.Events;
using CiTrigger.Gateway.Forges.GitHub;
using CiTrigger.Grains.Abstractions;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CiTrigger.Gateway.Ui;

/// <summary>
/// <c>/ui</c>: the status page for people, server-rendered HTML behind the admin rule. It reads the
/// catalog and the Repository resources for the overview and asks one ref, one repository or one delivery for
/// its own page; the buttons call the same grain methods as the admin API.
/// </summary>
public static class UiEndpoints
{
    private const int PageSize = 50;
    private const int MaxRepositories = 1000;
    private const string HtmlType = "text/html; charset=utf-8";

    public static IServiceCollection AddUi(this IServiceCollection services)
    {
        services.AddSingleton<UiAssets>();
        services.AddSingleton<UiPages>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "citrigger-ui-antiforgery";
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.SuppressXFrameOptionsHeader = true;
        });
        return services;
    }

    public static IEndpointRouteBuilder MapUi(this IEndpointRouteBuilder app)
    {
        var ui = app.MapGroup(UiPaths.Root).AddEndpointFilter<AdminAccessFilter>().AddEndpointFilter<UiHeaders>().ExcludeFromDescription();
        ui.MapGet("", Overview);
        ui.MapGet("/events", EventRows);
        ui.MapGet("/repos/{owner}/{repo}", Repository);
        ui.MapGet("/repos/{owner}/{repo}/refs/{**ref}", Ref);
        ui.MapPost("/repos/{owner}/{repo}/refs/{**path}", Act);
        ui.MapGet("/deliveries/{delivery}", Delivery);
        ui.MapPost("/deliveries/{delivery}/rerun", Rerun);
        ui.MapGet("/assets/{name}", Asset);
        return app;
    }

    private static async Task<ContentHttpResult> Overview(
        HttpContext http, IGrainFactory grains, IRepositorySettings settings, UiPages pages, string? repo, string? state, string? q, string? before)
    {
        var page = pages.Context(http);
        var filters = new OverviewPage.Filters(Given(repo), Given(state), Given(q), Given(before));
        var directory = grains.GetGrain<IRefDirectoryGrain>(0);
        var refs = await directory.List(new RefQuery(null, null, MaxRepositories, null));
        var repositories = refs.Refs.Select(r => r.Repository).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var resources = new RepositoryList(settings.Synced, await Task.WhenAll(settings.All.Select(r => AdminEndpoints.EntryAsync(grains, r))));
        if (Query(filters) is not { } query)
        {
            var problem = $"Cannot filter by that: the repository must be owner/name, the state one of {string.Join(", ", EventStates.All)}, the text at most a line.";
            return Page(OverviewPage.Render(page, filters with { Before = null }, new EventPage([], null), repositories, resources, problem), StatusCodes.Status400BadRequest);
        }

        return Page(OverviewPage.Render(page, filters, await directory.ListEvents(query), repositories, resources, null));
    }

    private static async Task<ContentHttpResult> Repository(
        HttpContext http, IGrainFactory grains, IRepositorySettings settings, IOptions<PullRequestOptions> pullRequests, IOptions<FilterOptions> filters,
        UiPages pages, string owner, string repo)
    {
        var page = pages.Context(http);
        if (!Names.IsRepository(owner + "/" + repo))
        {
            return Page(Layout.Message(page, "Not a repository", "Expected /ui/repos/{owner}/{repo}, e.g. /ui/repos/octo/app."), StatusCodes.Status400BadRequest);
        }

        var key = RefKey.Repository(ForgeNames.GitHub, owner + "/" + repo);
        var refs = await grains.GetGrain<IRefDirectoryGrain>(0).List(new RefQuery(null, key, MaxRepositories, null));
        var paused = await grains.GetGrain<IRepositoryGrain>(key).IsPaused();
        var resources = await Task.WhenAll(settings.All.Where(r => r.Repository == key).OrderByDescending(r => r.Ready).Select(r => AdminEndpoints.EntryAsync(grains, r)));
        if (refs.Refs.Count == 0 && resources.Length == 0 && !paused)
        {
            return Page(Layout.Message(page, "Unknown repository", $"No events and no Repository resource are known for {key}."), StatusCodes.Status404NotFound);
        }

        var globals = new RepositoryPage.Globals(
            [.. OptionsValidation.SplitList(pullRequests.Value.TrustedAssociations).Select(a => a.ToUpperInvariant())], filters.Value.RequireRepository);
        return Page(RepositoryPage.Render(page, new RepositoryPage.View(key, paused, resources, refs.Refs, refs.Next is not null), globals));
    }

    /// <summary>The overview's rows alone, for the page to refresh itself in place.</summary>
    private static async Task<ContentHttpResult> EventRows(HttpContext http, IGrainFactory grains, UiPages pages, string? repo, string? state, string? q)
    {
        var filters = new OverviewPage.Filters(Given(repo), Given(state), Given(q), null);
        return Query(filters) is { } query
            ? Page(OverviewPage.Rows(pages.Context(http), await grains.GetGrain<IRefDirectoryGrain>(0).ListEvents(query)))
            : Page(Html.Empty, StatusCodes.Status400BadRequest);
    }

    private static async Task<ContentHttpResult> Ref(HttpContext http, IGrainFactory grains, UiPages pages, string owner, string repo, string @ref, string? notice, string? done)
    {
        var page = pages.Context(http);
        if (AdminEndpoints.Key(owner, repo, @ref) is not { } key)
        {
            return Page(Layout.Message(page, "Not a ref", "Expected /ui/repos/{owner}/{repo}/refs/{ref}, e.g. /ui/repos/octo/app/refs/heads/main."), StatusCodes.Status400BadRequest);
        }

        var snapshot = await grains.GetGrain<IRefGrain>(key).GetSnapshot();
        if (snapshot.Queue.IsEmpty && snapshot.History.IsEmpty && !snapshot.Paused)
        {
            return Page(Layout.Message(page, "Unknown ref", $"No events are known for {key}."), StatusCodes.Status404NotFound);
        }

        var shown = notice is not null && RefActions.Names.Contains(notice) ? notice : null;
        return Page(RefPage.Render(page, snapshot, shown, done == "true"));
    }

    private static async Task<Results<RedirectHttpResult, ContentHttpResult>> Act(HttpContext http, IGrainFactory grains, UiPages pages, IAntiforgery antiforgery, string owner, string repo, string path)
    {
        var page = pages.Context(http);
        if (await FormRefusalAsync(http, page, antiforgery) is { } refusal)
        {
            return refusal;
        }

        var slash = path.LastIndexOf('/');
        var action = slash > 0 ? path[(slash + 1)..] : "";
        if (!RefActions.Names.Contains(action) || AdminEndpoints.Key(owner, repo, path[..Math.Max(slash, 0)]) is not { } key)
        {
            return Page(Layout.Message(page, "Unknown action", "Expected a POST to /ui/repos/{owner}/{repo}/refs/{ref}/retry, /skip, /pause or /resume."), StatusCodes.Status404NotFound);
        }

        var grain = grains.GetGrain<IRefGrain>(key);
        var form = await http.Request.ReadFormAsync();
        if (action == "skip" && form["confirmed"] != "yes")
        {
            return Page(RefPage.ConfirmSkip(page, await grain.GetSnapshot()));
        }

        var result = (await RefActions.RunAsync(grain, action))!;
        var (repository, gitRef) = RefKey.Split(key);
        return TypedResults.LocalRedirect($"{page.Paths.Ref(repository, gitRef)}?notice={action}&done={(result.Done ? "true" : "false")}");
    }

    private static async Task<Results<RedirectHttpResult, ContentHttpResult>> Rerun(HttpContext http, IGrainFactory grains, UiPages pages, IAntiforgery antiforgery, TimeProvider time, string delivery)
    {
        var page = pages.Context(http);
        if (await FormRefusalAsync(http, page, antiforgery) is { } refusal)
        {
            return refusal;
        }

        if (!Names.IsDeliveryId(delivery))
        {
            return Page(Layout.Message(page, "Not a delivery", "A delivery id is letters, digits, '-', '_' and '.', at most 63 characters."), StatusCodes.Status400BadRequest);
        }

        var (result, key) = await DeliveryReruns.RunAsync(grains, delivery, time.GetUtcNow());
        return result?.Status switch
        {
            RerunStatus.Queued => TypedResults.LocalRedirect(page.Paths.Delivery(result.Delivery!)),
            null => Page(Layout.Message(page, "Unknown delivery", $"Delivery {delivery} is not known; nothing was re-run."), StatusCodes.Status404NotFound),
            RerunStatus.Unfinished => Page(Layout.Message(page, "Not finished", $"Delivery {delivery} has not finished yet; there is nothing to run again."), StatusCodes.Status409Conflict),
            RerunStatus.Full => Page(Layout.Message(page, "Queue full", $"The queue of {key} is full; nothing was re-run. Try again later."), StatusCodes.Status503ServiceUnavailable),
            _ => Page(Layout.Message(page, "Unknown delivery", $"Delivery {delivery} went to {key}, which no longer keeps it in its history; nothing was re-run."), StatusCodes.Status404NotFound),
        };
    }

    /// <summary>Null when a form post may act; else the page that says why not. The browser's word first (Sec-Fetch-Site, else Origin), then the form's token: either alone can be missing or stale.</summary>
    private static async Task<ContentHttpResult?> FormRefusalAsync(HttpContext http, PageContext page, IAntiforgery antiforgery)
    {
        if (!AdminAccess.IsSameOrigin(http.Request))
        {
            return Page(Layout.Message(page, "Refused", "This form was sent from another site; nothing was done."), StatusCodes.Status403Forbidden);
        }

        return await HasValidTokenAsync(http, antiforgery) ? null
            : Page(Layout.Message(page, "Form expired", "The form's token is missing or no longer valid; nothing was done. Reload the page and try again."), StatusCodes.Status400BadRequest);
    }

    private static async Task<ContentHttpResult> Delivery(HttpContext http, IGrainFactory grains, UiPages pages, string delivery)
    {
        var page = pages.Context(http);
        if (!Names.IsDeliveryId(delivery))
        {
            return Page(Layout.Message(page, "Not a delivery", "A delivery id is letters, digits, '-', '_' and '.', at most 63 characters."), StatusCodes.Status400BadRequest);
        }

        var directory = grains.GetGrain<IRefDirectoryGrain>(0);
        var key = await directory.FindDelivery(delivery);
        var record = key is null ? null : await grains.GetGrain<IRefGrain>(key).GetDelivery(delivery);
        if (record is null)
        {
            return Page(Layout.Message(page, "Unknown delivery", key is null
                ? $"Delivery {delivery} is not known."
                : $"Delivery {delivery} went to {key}, which no longer keeps it in its history."), StatusCodes.Status404NotFound);
        }

        return Page(DeliveryPage.Render(page, record, await directory.FindManifest(delivery), await FailedLogAsync(http, record)));
    }

    /// <summary>How long the page waits for a failed run's log before it shows the page without it.</summary>
    private static readonly TimeSpan LogWait = TimeSpan.FromSeconds(5);

    /// <summary>The end of the failed container's log of a run that failed or timed out, read now (as its check showed it); null for any other.</summary>
    private static async Task<RunLog?> FailedLogAsync(HttpContext http, DeliveryRecord record)
    {
        if (record.Result?.Run?.FailedObject() is not { } failed || http.RequestServices.GetService<IRunLogs>() is not { } logs)
        {
            return null;
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        wait.CancelAfter(LogWait);
        try
        {
            return await logs.FailedLogAsync(failed, wait.Token);
        }
        catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
        {
            return new RunLog("", "", null, $"the cluster did not answer within {LogWait.TotalSeconds:0} s");
        }
    }

    private static Results<FileContentHttpResult, NotFound> Asset(HttpContext http, UiAssets assets, string name, string? v)
    {
        if (assets.Find(name) is not { } asset)
        {
            return TypedResults.NotFound();
        }

        http.Response.Headers.CacheControl = v == assets.Version(name) ? "public, max-age=31536000, immutable" : "no-cache";
        return TypedResults.File(asset.Content, asset.Type);
    }

    private static async Task<bool> HasValidTokenAsync(HttpContext http, IAntiforgery antiforgery)
    {
        try
        {
            return await antiforgery.IsRequestValidAsync(http);
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException or AntiforgeryValidationException)
        {
            // A body that is not a readable form carries no valid token either.
            return false;
        }
    }

    private static EventQuery? Query(OverviewPage.Filters filters) =>
        AdminEndpoints.EventQueryOf(filters.Repository, filters.State, filters.Text, PageSize, filters.Before);

    private static string? Given(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static ContentHttpResult Page(Html html, int status = StatusCodes.Status200OK) => TypedResults.Content(html.Markup, HtmlType, statusCode: status);
}

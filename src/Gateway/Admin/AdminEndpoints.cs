using CiTrigger.Grains.Abstractions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace CiTrigger.Gateway.Admin;

/// <summary>
/// <c>/admin</c>: read and steer refs. Every route parameter is checked before it reaches a grain key,
/// since admin requests are untrusted input too.
/// </summary>
public static class AdminEndpoints
{
    private const int MaxPage = 1000;
    private const int MaxText = 200;

    public static IEndpointRouteBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin").AddEndpointFilter<AdminAccessFilter>();
        admin.MapGet("/refs", ListRefs);
        admin.MapGet("/events", ListEvents);
        admin.MapGet("/repos/{owner}/{repo}/refs/{**ref}", GetRef);
        admin.MapPost("/repos/{owner}/{repo}/refs/{**path}", ActOnRef);
        admin.MapGet("/deliveries/{delivery}", GetDelivery);
        admin.MapGet("/deliveries/{delivery}/manifest", GetManifest);
        admin.MapPost("/deliveries/{delivery}/rerun", Rerun);
        admin.MapGet("/repos/{owner}/{repo}", GetRepository);
        admin.MapGet("/repositories", ListRepositories);
        admin.MapPost("/repos/{owner}/{repo}/{action:regex(^(pause|resume)$)}", ActOnRepository);
        admin.MapGet("/recovery", async (IGrainFactory grains) => TypedResults.Ok(await grains.GetGrain<IDeliveryRecoveryGrain>(0).GetStatus()));
        return app;
    }

    private static async Task<Results<Ok<RefPage>, BadRequest<AdminError>>> ListRefs(IGrainFactory grains, string? state, string? repo, int? limit, string? after)
    {
        if (state is not null && !RefStates.Known.Contains(state))
        {
            return AdminResults.BadRequest($"state must be one of {string.Join(", ", RefStates.Known)}");
        }

        if (repo is not null && !Names.IsRepository(repo))
        {
            return AdminResults.BadRequest("repo must be owner/name");
        }

        if (limit is < 1 or > MaxPage)
        {
            return AdminResults.BadRequest($"limit must be between 1 and {MaxPage}");
        }

        return TypedResults.Ok(await grains.GetGrain<IRefDirectoryGrain>(0).List(new RefQuery(state, repo, limit ?? 100, after)));
    }

    private static async Task<Results<Ok<EventPage>, BadRequest<AdminError>>> ListEvents(IGrainFactory grains, string? repo, string? state, string? q, int? limit, string? before) =>
        EventQueryOf(repo, state, q, limit ?? 100, before) is { } query
            ? TypedResults.Ok(await grains.GetGrain<IRefDirectoryGrain>(0).ListEvents(query))
            : AdminResults.BadRequest($"repo must be owner/name, state one of {string.Join(", ", EventStates.All)}, q at most {MaxText} characters, limit between 1 and {MaxPage}, before the next of a previous page");

    /// <summary>The recent-events query for checked request values, or null when one of them is not acceptable.</summary>
    public static EventQuery? EventQueryOf(string? repo, string? state, string? text, int limit, string? before) =>
        (repo is null || Names.IsRepository(repo))
        && (state is null || EventStates.All.Contains(state))
        && (text is null || (text.Length <= MaxText && Names.IndexOfHidden(text) < 0))
        && limit is >= 1 and <= MaxPage
        && (before is null || EventQuery.TryParseCursor(before, out _, out _))
            ? new EventQuery(repo, state, text, limit, before)
            : null;

    private static async Task<Results<Ok<RefSnapshot>, BadRequest<AdminError>, NotFound<AdminError>>> GetRef(IGrainFactory grains, string owner, string repo, string @ref)
    {
        if (Key(owner, repo, @ref) is not { } key)
        {
            return BadRef();
        }

        var snapshot = await grains.GetGrain<IRefGrain>(key).GetSnapshot();
        return snapshot.Queue.IsEmpty && snapshot.History.IsEmpty && !snapshot.Paused
            ? AdminResults.NotFound($"no events are known for {key}")
            : TypedResults.Ok(snapshot);
    }

    private static async Task<Results<Ok<RefActionResult>, Conflict<RefActionConflict>, BadRequest<AdminError>, NotFound<AdminError>>> ActOnRef(
        IGrainFactory grains, string owner, string repo, string path)
    {
        var slash = path.LastIndexOf('/');
        if (slash <= 0 || Key(owner, repo, path[..slash]) is not { } key)
        {
            return BadRef();
        }

        var result = await RefActions.RunAsync(grains.GetGrain<IRefGrain>(key), path[(slash + 1)..]);
        return result switch
        {
            null => AdminResults.NotFound("the action must be retry, skip, pause or resume"),
            { Done: true } => TypedResults.Ok(new RefActionResult(key, result.Message, result.Delivery)),
            _ => TypedResults.Conflict(new RefActionConflict(key, result.Message, result.Delivery)),
        };
    }

    private static async Task<Ok<RepositoryList>> ListRepositories(IGrainFactory grains, IRepositorySettings repositories) =>
        TypedResults.Ok(new RepositoryList(repositories.Synced, await Task.WhenAll(repositories.All.Select(r => EntryAsync(grains, r)))));

    /// <summary>A Repository object with its runs under its limit (asked of its repository's grain only when it has one).</summary>
    public static async Task<RepositoryEntry> EntryAsync(IGrainFactory grains, RepositoryResource r) =>
        new(r.Resource, r.Repository, r.Ready, r.Reason, r.Message, r.Settings,
            r.Settings?.ConcurrencyLimit is null ? null : await grains.GetGrain<IRepositoryGrain>(r.Repository).GetRuns());

    private static async Task<Results<Ok<RepositoryView>, BadRequest<AdminError>>> GetRepository(
        IGrainFactory grains, IRepositorySettings repositories, string owner, string repo, string? after)
    {
        var repository = owner + "/" + repo;
        if (!Names.IsRepository(repository))
        {
            return AdminResults.BadRequest("expected /admin/repos/{owner}/{repo}");
        }

        var key = repository.ToLowerInvariant();
        var paused = await grains.GetGrain<IRepositoryGrain>(key).IsPaused();
        var refs = await grains.GetGrain<IRefDirectoryGrain>(0).List(new RefQuery(null, key, MaxPage, after));
        var resource = repositories.All.Where(r => r.Repository == key).OrderByDescending(r => r.Ready).FirstOrDefault();
        return TypedResults.Ok(new RepositoryView(key, paused, refs.Refs, refs.Next) { Resource = resource is null ? null : await EntryAsync(grains, resource) });
    }

    private static async Task<Results<Ok<RepositoryActionResult>, BadRequest<AdminError>>> ActOnRepository(IGrainFactory grains, string owner, string repo, string action)
    {
        var repository = owner + "/" + repo;
        if (!Names.IsRepository(repository))
        {
            return AdminResults.BadRequest("expected /admin/repos/{owner}/{repo}/pause or /resume");
        }

        var result = await grains.GetGrain<IRepositoryGrain>(repository.ToLowerInvariant()).SetPaused(action == "pause");
        return TypedResults.Ok(new RepositoryActionResult(repository.ToLowerInvariant(), result.Message));
    }

    private static async Task<Results<Ok<DeliveryRecord>, BadRequest<AdminError>, NotFound<AdminError>>> GetDelivery(IGrainFactory grains, string delivery)
    {
        if (!Names.IsDeliveryId(delivery))
        {
            return AdminResults.BadRequest("not a delivery id");
        }

        var key = await grains.GetGrain<IRefDirectoryGrain>(0).FindDelivery(delivery);
        var record = key is null ? null : await grains.GetGrain<IRefGrain>(key).GetDelivery(delivery);
        return record is null
            ? AdminResults.NotFound(key is null
                ? $"delivery {delivery} is not known"
                : $"delivery {delivery} went to {key}, which no longer keeps it in its history")
            : TypedResults.Ok(record);
    }

    private static async Task<Results<Accepted<RerunAccepted>, BadRequest<AdminError>, NotFound<AdminError>, Conflict<AdminError>, JsonHttpResult<AdminError>>> Rerun(
        IGrainFactory grains, TimeProvider time, string delivery, string? pipeline)
    {
        if (!Names.IsDeliveryId(delivery))
        {
            return AdminResults.BadRequest("not a delivery id");
        }

        if (pipeline is not null && !Names.IsPipeline(pipeline))
        {
            return AdminResults.BadRequest("pipeline: not a pipeline name (lower-case letters, digits and '-', at most 63)");
        }

        var (result, key) = await DeliveryReruns.RunAsync(grains, delivery, time.GetUtcNow(), pipeline);
        return result?.Status switch
        {
            null => AdminResults.NotFound($"delivery {delivery} is not known"),
            RerunStatus.Queued => TypedResults.Accepted($"/admin/deliveries/{result.Delivery}", new RerunAccepted(result.Delivery!, key!, delivery)),
            RerunStatus.Unfinished => TypedResults.Conflict(new AdminError(result.Message)),
            RerunStatus.Full => TypedResults.Json(new AdminError(result.Message), statusCode: StatusCodes.Status503ServiceUnavailable),
            _ => AdminResults.NotFound($"delivery {delivery} went to {key}, which no longer keeps it in its history"),
        };
    }

    private static async Task<Results<Ok<DeliveryManifest>, BadRequest<AdminError>, NotFound<AdminError>>> GetManifest(IGrainFactory grains, string delivery)
    {
        if (!Names.IsDeliveryId(delivery))
        {
            return AdminResults.BadRequest("not a delivery id");
        }

        return await grains.GetGrain<IRefDirectoryGrain>(0).FindManifest(delivery) is { } manifest
            ? TypedResults.Ok(new DeliveryManifest(delivery, manifest))
            : AdminResults.NotFound($"no manifest is kept for delivery {delivery}: unknown, not attempted yet, refused before it was read, or older than Handler:DedupeRetention");
    }

    /// <summary>The grain key for a route's owner, repo and ref (without its leading "refs/"), or null if invalid.</summary>
    internal static string? Key(string owner, string repo, string refTail)
    {
        var repository = owner + "/" + repo;
        var gitRef = "refs/" + refTail;
        return Names.IsRepository(repository) && Names.IsGitRef(gitRef) ? RefKey.For(ForgeNames.GitHub, repository, gitRef) : null;
    }

    private static BadRequest<AdminError> BadRef() =>
        AdminResults.BadRequest("expected /admin/repos/{owner}/{repo}/refs/{ref}, e.g. /admin/repos/octo/app/refs/heads/main");
}

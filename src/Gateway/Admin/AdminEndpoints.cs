using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace CiTrigger.Gateway.Admin;

/// <summary>
/// <c>/admin</c>: read and steer refs. Every route parameter is checked before it reaches a grain key,
/// since admin requests are untrusted input too.
/// </summary>
public static class AdminEndpoints
{
    private const int MaxPage = 1000;

    public static IEndpointRouteBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin").AddEndpointFilter<AdminAccessFilter>();
        admin.MapGet("/refs", ListRefs);
        admin.MapGet("/repos/{owner}/{repo}/refs/{**ref}", GetRef);
        admin.MapPost("/repos/{owner}/{repo}/refs/{**path}", ActOnRef);
        admin.MapGet("/deliveries/{delivery}", GetDelivery);
        admin.MapGet("/repos/{owner}/{repo}", GetRepository);
        admin.MapPost("/repos/{owner}/{repo}/{action:regex(^(pause|resume)$)}", ActOnRepository);
        admin.MapGet("/recovery", async (IGrainFactory grains) => AdminResults.Ok(await grains.GetGrain<IDeliveryRecoveryGrain>(0).GetStatus()));
        return app;
    }

    private static async Task<IResult> ListRefs(IGrainFactory grains, string? state, string? repo, int? limit, string? after)
    {
        if (state is not null && !RefQueryFilter.Known.Contains(state))
        {
            return AdminResults.Problem(StatusCodes.Status400BadRequest, $"state must be one of {string.Join(", ", RefQueryFilter.Known)}");
        }

        if (repo is not null && !Names.IsRepository(repo))
        {
            return AdminResults.Problem(StatusCodes.Status400BadRequest, "repo must be owner/name");
        }

        if (limit is < 1 or > MaxPage)
        {
            return AdminResults.Problem(StatusCodes.Status400BadRequest, $"limit must be between 1 and {MaxPage}");
        }

        var page = await grains.GetGrain<IRefDirectoryGrain>(0).List(new RefQuery(state, repo, limit ?? 100, after));
        return AdminResults.Ok(page);
    }

    private static async Task<IResult> GetRef(IGrainFactory grains, string owner, string repo, string @ref)
    {
        if (Key(owner, repo, @ref) is not { } key)
        {
            return BadRef();
        }

        var snapshot = await grains.GetGrain<IRefGrain>(key).GetSnapshot();
        return snapshot.Queue.IsEmpty && snapshot.History.IsEmpty && !snapshot.Paused
            ? AdminResults.Problem(StatusCodes.Status404NotFound, $"no events are known for {key}")
            : AdminResults.Ok(snapshot);
    }

    private static async Task<IResult> ActOnRef(IGrainFactory grains, string owner, string repo, string path)
    {
        var slash = path.LastIndexOf('/');
        if (slash <= 0 || Key(owner, repo, path[..slash]) is not { } key)
        {
            return BadRef();
        }

        var grain = grains.GetGrain<IRefGrain>(key);
        var result = path[(slash + 1)..] switch
        {
            "retry" => await grain.RetryHead(),
            "skip" => await grain.SkipHead(),
            "pause" => await grain.SetPaused(true),
            "resume" => await grain.SetPaused(false),
            _ => null,
        };
        return result switch
        {
            null => AdminResults.Problem(StatusCodes.Status404NotFound, "the action must be retry, skip, pause or resume"),
            { Done: true } => AdminResults.Ok(new { key, result.Message, result.Delivery }),
            _ => Results.Json(new { key, error = result.Message, result.Delivery }, AdminResults.Json, statusCode: StatusCodes.Status409Conflict),
        };
    }

    private static async Task<IResult> GetRepository(IGrainFactory grains, string owner, string repo, string? after)
    {
        var repository = owner + "/" + repo;
        if (!Names.IsRepository(repository))
        {
            return AdminResults.Problem(StatusCodes.Status400BadRequest, "expected /admin/repos/{owner}/{repo}");
        }

        var key = repository.ToLowerInvariant();
        var paused = await grains.GetGrain<IRepositoryGrain>(key).IsPaused();
        var refs = await grains.GetGrain<IRefDirectoryGrain>(0).List(new RefQuery(null, key, MaxPage, after));
        return AdminResults.Ok(new { repository = key, paused, refs.Refs, refs.Next });
    }

    private static async Task<IResult> ActOnRepository(IGrainFactory grains, string owner, string repo, string action)
    {
        var repository = owner + "/" + repo;
        if (!Names.IsRepository(repository))
        {
            return AdminResults.Problem(StatusCodes.Status400BadRequest, "expected /admin/repos/{owner}/{repo}/pause or /resume");
        }

        var result = await grains.GetGrain<IRepositoryGrain>(repository.ToLowerInvariant()).SetPaused(action == "pause");
        return AdminResults.Ok(new { repository = repository.ToLowerInvariant(), result.Message });
    }

    private static async Task<IResult> GetDelivery(IGrainFactory grains, string delivery)
    {
        if (!Names.IsDeliveryId(delivery))
        {
            return AdminResults.Problem(StatusCodes.Status400BadRequest, "not a delivery id");
        }

        var key = await grains.GetGrain<IRefDirectoryGrain>(0).FindDelivery(delivery);
        var record = key is null ? null : await grains.GetGrain<IRefGrain>(key).GetDelivery(delivery);
        return record is null
            ? AdminResults.Problem(StatusCodes.Status404NotFound, key is null
                ? $"delivery {delivery} is not known"
                : $"delivery {delivery} went to {key}, which no longer keeps it in its history")
            : AdminResults.Ok(record);
    }

    /// <summary>The grain key for a route's owner, repo and ref (without its leading "refs/"), or null if invalid.</summary>
    private static string? Key(string owner, string repo, string refTail)
    {
        var repository = owner + "/" + repo;
        var gitRef = "refs/" + refTail;
        return Names.IsRepository(repository) && Names.IsGitRef(gitRef) ? RefKey.For(repository, gitRef) : null;
    }

    private static IResult BadRef() =>
        AdminResults.Problem(StatusCodes.Status400BadRequest, "expected /admin/repos/{owner}/{repo}/refs/{ref}, e.g. /admin/repos/octo/app/refs/heads/main");
}

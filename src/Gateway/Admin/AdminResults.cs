using System.Text.Json;
using System.Text.Json.Serialization;
using CiTrigger.Grains.Abstractions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;

namespace CiTrigger.Gateway.Admin;

/// <summary>Why an admin request was refused or found nothing.</summary>
public sealed record AdminError(string Error);

/// <summary>The answer to a retry, skip, pause or resume of one ref.</summary>
public sealed record RefActionResult(string Key, string Message, string? Delivery);

/// <summary>A ref action that could not be done now (an empty queue, a head being processed).</summary>
public sealed record RefActionConflict(string Key, string Error, string? Delivery);

/// <summary>A repository: its pause and one page of its refs.</summary>
public sealed record RepositoryView(string Repository, bool Paused, IReadOnlyList<RefSummary> Refs, string? Next)
{
    /// <summary>Its Repository resource as the service read it (usable or not); null when none names it.</summary>
    public RepositoryEntry? Resource { get; init; }
}

/// <summary>
/// One Repository object: what the service made of it (its Ready condition), its settings when usable, and under a
/// <c>concurrencyLimit</c> the runs holding its slots and the deliveries waiting for one.
/// </summary>
public sealed record RepositoryEntry(
    string Resource, string Repository, bool Ready, string Reason, string Message, RepositorySettings? Settings, RepositoryRuns? Runs);

/// <summary>Every Repository object the service knows, and whether it has listed them yet.</summary>
public sealed record RepositoryList(bool Synced, IReadOnlyList<RepositoryEntry> Repositories);

/// <summary>A re-run queued by an operator: its new delivery id, its ref, and the delivery it runs again.</summary>
public sealed record RerunAccepted(string Delivery, string Key, string RerunOf);

/// <summary>The manifest as the service sent it for a delivery (documents as JSON behind <c>---</c>, cut at 256 KiB).</summary>
public sealed record DeliveryManifest(string Delivery, string Manifest);

/// <summary>The answer to a repository-wide pause or resume.</summary>
public sealed record RepositoryActionResult(string Repository, string Message);

public static class AdminResults
{
    /// <summary>
    /// camelCase names, enums as strings: the field names docs/http-api.md documents. The answers are
    /// <c>application/json</c>, never HTML, so characters stay as written (<c>'prod'</c>, not <c>\u0027prod\u0027</c>).
    /// </summary>
    public static void Configure(JsonOptions options)
    {
        options.SerializerOptions.Converters.Add(new RunResultWords());
        options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.SerializerOptions.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
    }

    public static BadRequest<AdminError> BadRequest(string error) => TypedResults.BadRequest(new AdminError(error));

    public static NotFound<AdminError> NotFound(string error) => TypedResults.NotFound(new AdminError(error));

    /// <summary>A refusal by the admin rule (401 or 403), outside the endpoints' own typed results.</summary>
    public static IResult Refused(int status, string error) => TypedResults.Json(new AdminError(error), statusCode: status);
}

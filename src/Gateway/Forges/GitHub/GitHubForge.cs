using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using CiTrigger.Gateway.Events;
using CiTrigger.Grains.Abstractions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CiTrigger.Gateway.Forges.GitHub;

/// <summary>
/// GitHub's webhooks at <c>POST /webhooks/github</c>: the <c>X-GitHub-*</c> headers, the <c>X-Hub-Signature-256</c>
/// signature (<see cref="GitHubSignature"/>), both content types GitHub offers (<see cref="GitHubPayload"/>), its
/// <c>ping</c>, and the payloads (<see cref="GitHubEventReader"/>). Checks run cheapest first: the headers before
/// the payload is copied, the event type against <c>Handler:Events</c> before the payload is parsed.
/// </summary>
public sealed partial class GitHubForge(IOptions<PullRequestOptions> pullRequests, IConfiguration configuration, IServiceProvider services) : IWebhookForge
{
    public static ForgeEntry Entry { get; } = new(GitHubEventReader.SupportedEvents, GitHubEventReader.KnownEvents, Add);

    private readonly long? ownApp = OwnApp(configuration);

    // Resolved at the first webhook: the forge is made when routes are mapped, before a cluster should be looked for.
    private IRepositorySettings? repositories;

    private IRepositorySettings Repositories => repositories ??= services.GetRequiredService<IRepositorySettings>();

    public string Name => ForgeNames.GitHub;

    public string Route => "/webhooks/github";

    public string EventName(HttpRequest request) => request.Headers[GitHubHeaders.Event].ToString();

    public SignatureVerification Verify(HttpRequest request, ReadOnlySequence<byte> body, IReadOnlyList<byte[]> secrets) =>
        GitHubSignature.Verify(body, request.Headers[GitHubHeaders.Signature], secrets);

    public WebhookRead Read(HttpRequest request, ReadOnlySequence<byte> body, EventFilter filter, DateTimeOffset receivedAt)
    {
        var eventType = EventName(request);
        var delivery = request.Headers[GitHubHeaders.Delivery].ToString();
        var refusal = eventType.Length == 0 ? $"missing {GitHubHeaders.Event} header"
            : eventType.Length > 64 || !EventNamePattern().IsMatch(eventType) ? $"{GitHubHeaders.Event} is not an event name"
            : delivery.Length == 0 ? $"missing {GitHubHeaders.Delivery} header"
            : !Names.IsDeliveryId(delivery) ? $"{GitHubHeaders.Delivery} must be up to 63 characters of letters, digits, '-', '_' and '.'"
            : null;
        if (refusal is not null)
        {
            return new WebhookRead.Refused(StatusCodes.Status400BadRequest, refusal);
        }

        // Verified now: one contiguous copy bounded by Webhook:MaxPayloadBytes is what a signed sender can cost. It is
        // pooled: what the event keeps is read out of it (strings), so it goes back once the event is read.
        var length = checked((int)body.Length);
        var copy = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            body.CopyTo(copy);
            var (json, problem) = GitHubPayload.Read(request.ContentType, new ArraySegment<byte>(copy, 0, length));
            return problem ?? (WebhookRead)new WebhookRead.Delivered(delivery, eventType, ReadEvent(eventType, delivery, json, filter, receivedAt));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    private EventReadResult ReadEvent(string eventType, string delivery, ReadOnlyMemory<byte> json, EventFilter filter, DateTimeOffset receivedAt)
    {
        if (eventType == "ping")
        {
            return new EventReadResult.Ignored("ping: the webhook is set up");
        }

        if (!filter.HandlesEventType(eventType))
        {
            return new EventReadResult.Ignored($"event type '{eventType}' is not in Handler:Events");
        }

        EventReadResult read;
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
            read = GitHubEventReader.Read(eventType, delivery, document.RootElement, receivedAt, PolicyOf(document.RootElement), ownApp);
        }
        catch (JsonException e)
        {
            return new EventReadResult.Rejected($"the payload is not valid JSON: {e.Message}");
        }

        // A Re-run button asks by the action "rerequested": unless Handler:Actions handles it, the webhook reads as it otherwise would.
        return read is EventReadResult.RerunRequested rerun && filter.ActionIgnoreReason(eventType, "rerequested") is not null ? rerun.Otherwise : read;
    }

    /// <summary>
    /// Whom the repository's pull requests trust: its Repository's <c>trustedAssociations</c> when it has them, else
    /// <c>Handler:TrustedAssociations</c>. The payload's repository is read here only to choose; the reader checks it.
    /// </summary>
    private PullRequestPolicy PolicyOf(JsonElement payload)
    {
        var policy = pullRequests.Value.Policy;
        try
        {
            return payload.ValueKind == JsonValueKind.Object && payload.TryGetProperty("repository", out var repository) && repository.ValueKind == JsonValueKind.Object
                && repository.TryGetProperty("full_name", out var name) && name.ValueKind == JsonValueKind.String && name.GetString() is { } fullName
                && Names.IsRepository(fullName) && Repositories.Find(RefKey.Repository(ForgeNames.GitHub, fullName)) is { TrustedAssociations: { } trusted }
                ? policy with { TrustedAssociations = trusted.ToHashSet(StringComparer.Ordinal) }
                : policy;
        }
        catch (InvalidOperationException)
        {
            // A name that is no text (a lone surrogate): the reader refuses the payload with the field's name.
            return policy;
        }
    }

    private static void Add(IServiceCollection services)
    {
        services.AddValidatedOptions<PullRequestOptions>(PullRequestOptions.Section, o => o.Validate());
        services.AddSingleton<IWebhookForge, GitHubForge>();
        services.AddOptions<GitHubLinkOptions>().BindConfiguration(GitHubLinkOptions.Section);
        services.AddSingleton<GitHubLinks>();
    }

    /// <summary>
    /// In App mode the App's id (<c>GitHub:AppId</c>), so the check runs it reports with do not trigger
    /// runs. Read from configuration because the gateway cannot see the GitHub adapter's options; the
    /// silo refuses to start on an AppId that is no number, so an unparsable one never gets here.
    /// </summary>
    private static long? OwnApp(IConfiguration configuration) =>
        long.TryParse(configuration["GitHub:AppId"], NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0 ? id : null;

    [GeneratedRegex(@"^[a-z0-9_]+\z")]
    private static partial Regex EventNamePattern();
}

using System.Runtime.CompilerServices;
using Octokit;
using Octokit.Internal;

namespace CiTrigger.Grains.GitHub;

/// <summary>One delivery as GitHub's delivery log lists it.</summary>
public sealed class HookDeliveryItem
{
    public long Id { get; set; }

    [Parameter(Key = "guid")]
    public string DeliveryGuid { get; set; } = "";

    public DateTimeOffset DeliveredAt { get; set; }

    public bool Redelivery { get; set; }

    public int StatusCode { get; set; }

    public string Event { get; set; } = "";

    public string? Action { get; set; }

    public bool Succeeded => StatusCode is >= 200 and < 300;
}

/// <summary>
/// The delivery log GitHub keeps for one webhook: the App's own (<c>app/hook/deliveries</c>, with the App
/// JWT) or a repository's hook (<c>repos/{owner}/{repo}/hooks/{id}/deliveries</c>, with a token). GitHub
/// lists it newest first, in pages linked by a cursor.
/// </summary>
public sealed class HookDeliveryLog(IGitHubClient client, string path)
{
    private const string PerPage = "100";

    public string Path { get; } = path;

    /// <summary>The deliveries from the newest back to <paramref name="since"/>.</summary>
    public async IAsyncEnumerable<HookDeliveryItem> ReadBackToAsync(DateTimeOffset since, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Uri? page = new(Path, UriKind.Relative);
        var parameters = new Dictionary<string, string> { ["per_page"] = PerPage };
        while (page is not null)
        {
            var response = await client.Connection.Get<List<HookDeliveryItem>>(page, parameters).WaitAsync(cancellationToken);
            foreach (var delivery in response.Body ?? [])
            {
                if (delivery.DeliveredAt < since)
                {
                    yield break;
                }

                yield return delivery;
            }

            // The next page's link carries the cursor and the page size already.
            page = response.HttpResponse.ApiInfo?.Links is { } links && links.TryGetValue("next", out var next) ? next : null;
            parameters = [];
        }
    }

    /// <summary>Asks GitHub to deliver <paramref name="delivery"/> again; it keeps its guid.</summary>
    public Task RedeliverAsync(long delivery, CancellationToken cancellationToken) =>
        client.Connection.Post(new Uri($"{Path}/{delivery}/attempts", UriKind.Relative), cancellationToken);
}

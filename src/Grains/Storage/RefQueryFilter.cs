using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Storage;

/// <summary>The meaning of <see cref="RefQuery"/> filters, shared by every catalog.</summary>
public static class RefQueryFilter
{
    public static bool Matches(RefSummary summary, RefQuery query) =>
        (query.Repository is null || string.Equals(summary.Repository, query.Repository, StringComparison.OrdinalIgnoreCase))
        && (query.After is null || string.CompareOrdinal(summary.Key, query.After) > 0)
        && query.State switch
        {
            null => true,
            RefStates.Pending => summary.QueueLength > 0,
            RefStates.Failing => summary.State is RefSummary.Retrying or RefSummary.FailedState,
            RefSummary.PausedState => summary.Paused,
            var state => summary.State == state,
        };

    /// <summary>The first page of <paramref name="ordered"/> (sorted by key) that matches.</summary>
    public static RefPage Page(IEnumerable<RefSummary> ordered, RefQuery query)
    {
        var page = ordered.Where(s => Matches(s, query)).Take(query.Limit + 1).ToList();
        return page.Count > query.Limit
            ? new RefPage(page[..query.Limit], page[query.Limit - 1].Key)
            : new RefPage(page, null);
    }
}

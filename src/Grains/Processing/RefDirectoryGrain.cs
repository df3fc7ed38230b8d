using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Storage;

namespace CiTrigger.Grains.Processing;

/// <summary>Answers catalog questions on whichever silo is asked; holds no state of its own.</summary>
[StatelessWorker]
public sealed class RefDirectoryGrain(IRefCatalog catalog) : Grain, IRefDirectoryGrain
{
    public Task<RefPage> List(RefQuery query) => catalog.ListAsync(query);

    public Task<string?> FindDelivery(string delivery) => catalog.FindDeliveryAsync(delivery);

    public Task<string?> FindManifest(string delivery) => catalog.FindManifestAsync(delivery);

    public Task<EventPage> ListEvents(EventQuery query) => catalog.ListEventsAsync(query);
}

using Microsoft.Extensions.Configuration;

namespace CiTrigger.Grains.Storage;

/// <summary>What a storage backend is configured from: the application's configuration and the silo's data directory (<c>Orleans:DataPath</c>).</summary>
public sealed record StorageContext(IConfiguration Configuration, string DataPath);

/// <summary>One place a silo can keep grain state, reminders and the ref catalog, under the name <c>Storage:Provider</c> gives it.</summary>
/// <param name="Name">Its value of <c>Storage:Provider</c>.</param>
/// <param name="OnOneSilo">Its state lives on one silo's disk, so no other silo can take over a ref that was there.</param>
/// <param name="Validate">What is wrong with the configuration it reads, one line per key.</param>
/// <param name="Add">Registers grain state (<see cref="StorageNames.Refs"/>), reminders and the <see cref="IRefCatalog"/> on a silo.</param>
public sealed record StorageBackend(
    string Name,
    bool OnOneSilo,
    Func<StorageContext, IEnumerable<string>> Validate,
    Action<ISiloBuilder, StorageContext> Add);

using CiTrigger.Grains.Storage;
using CiTrigger.Grains.Storage.Redis;
using CiTrigger.Grains.Storage.Sqlite;

namespace CiTrigger.Silo.Hosting;

/// <summary>
/// Which storage backend a silo uses: <c>Storage:Provider</c>, else the one its clustering implies
/// (<c>Localhost</c> → <c>Sqlite</c>, <c>Redis</c> → <c>Redis</c>, what <c>Orleans:Clustering</c> chose before the
/// key existed), refused where it cannot keep the promise that a ref's state outlives its silo.
/// </summary>
public static class StorageChoice
{
    /// <returns>The backend, or null when the name is unknown; and what is wrong, one line per key.</returns>
    public static (StorageBackend? Backend, IReadOnlyList<string> Failures) Choose(OrleansOptions orleans, StorageOptions storage, StorageContext context)
    {
        var name = string.IsNullOrWhiteSpace(storage.Provider) ? Implied(orleans).Name : storage.Provider.Trim();
        if (StorageBackends.Find(name) is not { } backend)
        {
            return (null, [$"{StorageOptions.ProviderKey}: '{name}' is not one of {string.Join(", ", StorageBackends.All.Select(b => b.Name))}"]);
        }

        var failures = backend.Validate(context).ToList();

        // When several silos form the cluster, a ref moves to another silo as soon as its own leaves or dies; state
        // on the departed silo's disk would be out of reach then, and the events it acknowledged with it.
        if (orleans.IsRedis && backend.OnOneSilo)
        {
            var shared = string.Join(" or ", StorageBackends.All.Where(b => !b.OnOneSilo).Select(b => $"{StorageOptions.ProviderKey}={b.Name}"));
            failures.Add($"{StorageOptions.ProviderKey}: {backend.Name} keeps grain state on one silo's disk and cannot serve "
                + $"{OrleansOptions.Section}:Clustering={orleans.Clustering}, where refs move between silos; use {shared}");
        }

        return (backend, failures);
    }

    private static StorageBackend Implied(OrleansOptions orleans) => orleans.IsRedis ? RedisStorageExtensions.Backend : SqliteStorageExtensions.Backend;
}

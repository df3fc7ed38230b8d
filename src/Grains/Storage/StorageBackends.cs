using CiTrigger.Grains.Storage.Redis;
using CiTrigger.Grains.Storage.Sqlite;

namespace CiTrigger.Grains.Storage;

/// <summary>
/// The backends <c>Storage:Provider</c> can name. A new backend is a folder beside <c>Sqlite/</c> and
/// <c>Redis/</c> whose registration extension describes it as a <see cref="StorageBackend"/>, and one line here.
/// </summary>
public static class StorageBackends
{
    public static IReadOnlyList<StorageBackend> All { get; } =
    [
        SqliteStorageExtensions.Backend,
        RedisStorageExtensions.Backend,
    ];

    public static StorageBackend? Find(string name) =>
        All.FirstOrDefault(backend => string.Equals(backend.Name, name, StringComparison.OrdinalIgnoreCase));
}

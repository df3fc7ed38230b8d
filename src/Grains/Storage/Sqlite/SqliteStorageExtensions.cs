using CiTrigger.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Runtime.Hosting;
using Orleans.Storage;

namespace CiTrigger.Grains.Storage.Sqlite;

public static class SqliteStorageExtensions
{
    /// <summary><c>Storage:Provider=Sqlite</c>: one file under <c>Orleans:DataPath</c>, on this silo's disk only.</summary>
    public static StorageBackend Backend { get; } = new(
        "Sqlite",
        OnOneSilo: true,
        _ => [],
        (silo, context) => silo.AddSqliteStorage(Path.Combine(context.DataPath, "ci-trigger.db")));

    /// <summary>
    /// The embedded default: grain state, reminders and the ref catalog in one SQLite file. Several
    /// silos of one process may share the file (the test cluster does), each with its own writer.
    /// </summary>
    public static ISiloBuilder AddSqliteStorage(this ISiloBuilder silo, string databasePath)
    {
        silo.AddReminders();
        silo.Services.AddMetrics();
        silo.Services.TryAddSingleton<StoreMetrics>();
        silo.Services.AddSingleton(sp => new SqliteStore(databasePath, sp.GetRequiredService<StoreMetrics>()));
        silo.Services.AddGrainStorage(StorageNames.Refs, (sp, _) =>
            new SqliteGrainStorage(sp.GetRequiredService<SqliteStore>(), new OrleansGrainStorageSerializer(sp.GetRequiredService<Orleans.Serialization.Serializer>())));
        silo.Services.AddSingleton<IReminderTable, SqliteReminderTable>();
        silo.Services.AddSingleton<IRefCatalog>(sp => new SqliteRefCatalog(
            sp.GetRequiredService<SqliteStore>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<DeliveryIndexOptions>>().Value));
        return silo;
    }
}

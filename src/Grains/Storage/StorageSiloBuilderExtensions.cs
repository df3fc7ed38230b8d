using CiTrigger.Grains.Processing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.Hosting;
using Orleans.Storage;

namespace CiTrigger.Grains.Storage;

public static class StorageSiloBuilderExtensions
{
    /// <summary>
    /// The embedded default: grain state, reminders and the ref catalog in one SQLite file. Several
    /// silos of one process may share the file (the test cluster does), each with its own writer.
    /// </summary>
    public static ISiloBuilder AddEmbeddedStorage(this ISiloBuilder silo, string databasePath)
    {
        silo.AddReminders();
        silo.Services.AddSingleton(_ => new SqliteStore(databasePath));
        silo.Services.AddGrainStorage(RefGrain.StorageName, (sp, _) =>
            new SqliteGrainStorage(sp.GetRequiredService<SqliteStore>(), new OrleansGrainStorageSerializer(sp.GetRequiredService<Orleans.Serialization.Serializer>())));
        silo.Services.AddSingleton<IReminderTable, SqliteReminderTable>();
        silo.Services.AddSingleton<IRefCatalog, SqliteRefCatalog>();
        return silo;
    }
}

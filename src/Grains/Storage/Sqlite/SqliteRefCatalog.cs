using System.Text.Json;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Storage;

namespace CiTrigger.Grains.Storage.Sqlite;

/// <summary>The ref catalog in <see cref="SqliteStore"/>; summaries are written through the group commit.</summary>
public sealed class SqliteRefCatalog(SqliteStore store, TimeProvider time, DeliveryIndexOptions options) : IRefCatalog
{
    private static readonly TimeSpan PruneEvery = TimeSpan.FromMinutes(10);
    private static readonly string[] PrunedTables = ["deliveries", "manifests"];
    private DateTimeOffset lastPrune = DateTimeOffset.MinValue;

    public Task RecordRefAsync(RefSummary summary)
    {
        var json = JsonSerializer.Serialize(summary, CatalogJson.Default.RefSummary);
        return store.WriteAsync(w =>
        {
            var command = w.Command("""
                INSERT INTO refs (key, repository, summary) VALUES ($key, $repo, $summary)
                ON CONFLICT (key) DO UPDATE SET summary = excluded.summary
                """);
            command.Parameters.AddWithValue("$key", summary.Key);
            command.Parameters.AddWithValue("$repo", summary.Repository);
            command.Parameters.AddWithValue("$summary", json);
            return command.ExecuteNonQuery();
        });
    }

    public Task RecordDeliveryAsync(string delivery, string key, DateTimeOffset at)
    {
        var now = time.GetUtcNow();
        var prune = now - lastPrune > PruneEvery;
        if (prune)
        {
            lastPrune = now;
        }

        var cutoff = (now - options.DedupeRetention).ToUnixTimeMilliseconds();
        return store.WriteAsync(w =>
        {
            var command = w.Command("INSERT INTO deliveries (id, key, at) VALUES ($id, $key, $at) ON CONFLICT (id) DO NOTHING");
            command.Parameters.AddWithValue("$id", delivery);
            command.Parameters.AddWithValue("$key", key);
            command.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
            command.ExecuteNonQuery();
            if (prune)
            {
                foreach (var table in PrunedTables)
                {
                    var old = w.Command($"DELETE FROM {table} WHERE at < $cutoff");
                    old.Parameters.AddWithValue("$cutoff", cutoff);
                    old.ExecuteNonQuery();
                }
            }

            return 0;
        });
    }

    public Task RecordManifestAsync(string delivery, string manifest)
    {
        var at = time.GetUtcNow().ToUnixTimeMilliseconds();
        return store.WriteAsync(w =>
        {
            var command = w.Command("INSERT INTO manifests (id, at, text) VALUES ($id, $at, $text) ON CONFLICT (id) DO UPDATE SET at = excluded.at, text = excluded.text");
            command.Parameters.AddWithValue("$id", delivery);
            command.Parameters.AddWithValue("$at", at);
            command.Parameters.AddWithValue("$text", manifest);
            return command.ExecuteNonQuery();
        });
    }

    public Task<string?> FindManifestAsync(string delivery) => Task.FromResult(store.Read(connection =>
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT text FROM manifests WHERE id = $id";
        command.Parameters.AddWithValue("$id", delivery);
        return command.ExecuteScalar() as string;
    }));

    public Task ForgetDeliveryAsync(string delivery) => store.WriteAsync(w =>
    {
        var command = w.Command("DELETE FROM deliveries WHERE id = $id");
        command.Parameters.AddWithValue("$id", delivery);
        return command.ExecuteNonQuery();
    });

    public Task<RefPage> ListAsync(RefQuery query) => Task.FromResult(store.Read(connection =>
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT summary FROM refs WHERE key > $after ORDER BY key";
        command.Parameters.AddWithValue("$after", query.After ?? "");
        using var reader = command.ExecuteReader();
        return RefQueryFilter.Page(Rows(reader), query);

        static IEnumerable<RefSummary> Rows(Microsoft.Data.Sqlite.SqliteDataReader reader)
        {
            while (reader.Read())
            {
                yield return JsonSerializer.Deserialize(reader.GetString(0), CatalogJson.Default.RefSummary)!;
            }
        }
    }));

    public Task<string?> FindDeliveryAsync(string delivery) => Task.FromResult(store.Read(connection =>
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT key FROM deliveries WHERE id = $id";
        command.Parameters.AddWithValue("$id", delivery);
        return command.ExecuteScalar() as string;
    }));

    public Task<bool> PingAsync(CancellationToken cancellationToken) => Task.FromResult(store.Read(connection =>
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master";
        return command.ExecuteScalar() is long;
    }));
}

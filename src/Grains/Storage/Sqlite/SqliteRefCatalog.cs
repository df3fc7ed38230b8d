using System.Text.Json;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Storage.Sqlite;

/// <summary>The ref catalog in <see cref="SqliteStore"/>; summaries are written through the group commit.</summary>
public sealed class SqliteRefCatalog(SqliteStore store, TimeProvider time, DeliveryIndexOptions options) : IRefCatalog
{
    private static readonly TimeSpan PruneEvery = TimeSpan.FromMinutes(10);
    private static readonly string[] PrunedTables = ["deliveries", "manifests"];
    private DateTimeOffset lastPrune = DateTimeOffset.MinValue;
    private int eventsSincePrune;

    public Task RecordRefAsync(RefSummary summary) => RecordAsync(summary, []);

    public Task RecordAsync(RefSummary summary, IReadOnlyList<EventSummary> events)
    {
        var json = JsonSerializer.Serialize(summary, CatalogJson.Default.RefSummary);
        var lines = EventLines(events);
        return store.WriteAsync(w =>
        {
            var command = w.Command("""
                INSERT INTO refs (key, repository, summary) VALUES ($key, $repo, $summary)
                ON CONFLICT (key) DO UPDATE SET summary = excluded.summary
                """);
            command.Parameters.AddWithValue("$key", summary.Key);
            command.Parameters.AddWithValue("$repo", summary.Repository);
            command.Parameters.AddWithValue("$summary", json);
            command.ExecuteNonQuery();
            return WriteEvents(w, lines);
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

    public Task RecordEventsAsync(IReadOnlyList<EventSummary> events)
    {
        var lines = EventLines(events);
        return store.WriteAsync(w => WriteEvents(w, lines));
    }

    /// <summary>The lines to write, serialized off the writer, and whether this write prunes the old ones.</summary>
    private (List<(EventSummary Line, string Json)> Lines, bool Prune, long Cutoff) EventLines(IReadOnlyList<EventSummary> events)
    {
        var lines = events.Select(e => (e, JsonSerializer.Serialize(e, CatalogJson.Default.EventSummary))).ToList();
        var prune = lines.Count > 0 && Interlocked.Add(ref eventsSincePrune, lines.Count) >= EventQueryFilter.LinesPerPrune;
        if (prune)
        {
            Interlocked.Exchange(ref eventsSincePrune, 0);
        }

        return (lines, prune, (time.GetUtcNow() - options.DedupeRetention).ToUnixTimeMilliseconds());
    }

    private static int WriteEvents(SqliteStore.Writer w, (List<(EventSummary Line, string Json)> Lines, bool Prune, long Cutoff) events)
    {
        foreach (var (line, json) in events.Lines)
        {
            var command = w.Command("""
                INSERT INTO events (delivery, at, repository, state, summary) VALUES ($delivery, $at, $repo, $state, $summary)
                ON CONFLICT (delivery) DO UPDATE SET state = excluded.state, summary = excluded.summary
                """);
            command.Parameters.AddWithValue("$delivery", line.Delivery);
            command.Parameters.AddWithValue("$at", line.AcceptedAt.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$repo", line.Repository.ToLowerInvariant());
            command.Parameters.AddWithValue("$state", line.State);
            command.Parameters.AddWithValue("$summary", json);
            command.ExecuteNonQuery();
        }

        if (events.Prune)
        {
            var old = w.Command("""
                DELETE FROM events WHERE at < $cutoff
                OR delivery IN (SELECT delivery FROM events ORDER BY at DESC, delivery DESC LIMIT -1 OFFSET $kept)
                """);
            old.Parameters.AddWithValue("$cutoff", events.Cutoff);
            old.Parameters.AddWithValue("$kept", EventQueryFilter.Kept);
            old.ExecuteNonQuery();
        }

        return 0;
    }

    public Task<EventPage> ListEventsAsync(EventQuery query) => Task.FromResult(store.Read(connection =>
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT summary FROM events
            WHERE (at < $at OR (at = $at AND delivery < $delivery))
              AND ($repo IS NULL OR repository = $repo) AND ($state IS NULL OR state = $state)
            ORDER BY at DESC, delivery DESC
            """;
        var cursor = EventQuery.TryParseCursor(query.Before, out var at, out var delivery);
        command.Parameters.AddWithValue("$at", cursor ? at : long.MaxValue);
        command.Parameters.AddWithValue("$delivery", cursor ? delivery : "");
        command.Parameters.AddWithValue("$repo", (object?)query.Repository?.ToLowerInvariant() ?? DBNull.Value);
        command.Parameters.AddWithValue("$state", (object?)query.State ?? DBNull.Value);
        using var reader = command.ExecuteReader();
        return EventQueryFilter.Page(Rows(reader), query);

        static IEnumerable<EventSummary> Rows(Microsoft.Data.Sqlite.SqliteDataReader reader)
        {
            while (reader.Read())
            {
                yield return JsonSerializer.Deserialize(reader.GetString(0), CatalogJson.Default.EventSummary)!;
            }
        }
    }));

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

    public Task RecordRunningAsync(string delivery, string key, DateTimeOffset startedAt) => store.WriteAsync(w =>
    {
        var command = w.Command("INSERT INTO running (delivery, key, at) VALUES ($delivery, $key, $at) ON CONFLICT (delivery) DO NOTHING");
        command.Parameters.AddWithValue("$delivery", delivery);
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$at", startedAt.ToUnixTimeMilliseconds());
        return command.ExecuteNonQuery();
    });

    public Task ForgetRunningAsync(string delivery) => store.WriteAsync(w =>
    {
        var command = w.Command("DELETE FROM running WHERE delivery = $delivery");
        command.Parameters.AddWithValue("$delivery", delivery);
        return command.ExecuteNonQuery();
    });

    public Task<IReadOnlyList<RunningRun>> ListRunningAsync() => Task.FromResult(store.Read<IReadOnlyList<RunningRun>>(connection =>
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT delivery, key, at FROM running ORDER BY delivery";
        using var reader = command.ExecuteReader();
        var runs = new List<RunningRun>();
        while (reader.Read())
        {
            runs.Add(new RunningRun(reader.GetString(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2))));
        }

        return runs;
    }));

    public Task<bool> PingAsync(CancellationToken cancellationToken) => Task.FromResult(store.Read(connection =>
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master";
        return command.ExecuteScalar() is long;
    }));
}

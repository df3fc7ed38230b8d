using System.Text.Json;
using System.Text.Json.Serialization;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Storage;
using CiTrigger.Grains.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>The kept manifests and the recent-event lines live in rowid tables, also in a database made before.</summary>
public sealed class LargeRowTablesTests
{
    // The catalog's own JSON settings, for a line written the way the earlier layout held it.
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly string path = Path.Combine(Directory.CreateTempSubdirectory("citrigger-large-rows-").FullName, "store.db");

    private static string? Schema(SqliteConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $name";
        command.Parameters.AddWithValue("$name", table);
        return command.ExecuteScalar() as string;
    }

    private static EventSummary Line(string delivery, DateTimeOffset at) =>
        new(delivery, "o/r:refs/heads/main", "o/r", "refs/heads/main", "push", "", new string('a', 40), EventStates.Queued, at, null, 0, null, null, at, null);

    [Fact]
    public async Task A_new_store_keeps_manifests_and_event_lines_in_rowid_tables_with_their_indexes()
    {
        await using var store = new SqliteStore(path);

        var schemas = store.Read(c => new[] { Schema(c, "manifests"), Schema(c, "events") });
        Assert.All(schemas, s => Assert.DoesNotContain("WITHOUT ROWID", s!, StringComparison.OrdinalIgnoreCase));
        var indexes = store.Read(c =>
        {
            using var command = c.CreateCommand();
            command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ('manifests_by_time', 'events_by_time') ORDER BY name";
            using var reader = command.ExecuteReader();
            var names = new List<string>();
            while (reader.Read())
            {
                names.Add(reader.GetString(0));
            }

            return names;
        });
        Assert.Equal(["events_by_time", "manifests_by_time"], indexes);
    }

    [Fact]
    public async Task A_store_made_with_the_without_rowid_layout_is_rebuilt_keeping_its_manifests_and_event_lines()
    {
        var at = DateTimeOffset.UtcNow;
        using (var old = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ConnectionString))
        {
            await old.OpenAsync();
            using var command = old.CreateCommand();
            command.CommandText = """
                CREATE TABLE manifests (id TEXT PRIMARY KEY, at INTEGER NOT NULL, text TEXT NOT NULL) WITHOUT ROWID;
                CREATE INDEX manifests_by_time ON manifests (at);
                CREATE TABLE events (delivery TEXT PRIMARY KEY, at INTEGER NOT NULL, repository TEXT NOT NULL, state TEXT NOT NULL,
                    summary TEXT NOT NULL) WITHOUT ROWID;
                CREATE INDEX events_by_time ON events (at, delivery);
                INSERT INTO manifests (id, at, text) VALUES ('d-old', $at, $manifest);
                INSERT INTO events (delivery, at, repository, state, summary) VALUES ('d-old', $at, 'o/r', 'queued', $line);
                """;
            command.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$manifest", "---\n{\"kind\":\"Workflow\"}\n");
            command.Parameters.AddWithValue("$line", JsonSerializer.Serialize(Line("d-old", at), Web));
            await command.ExecuteNonQueryAsync();
        }

        await using var store = new SqliteStore(path);
        var catalog = new SqliteRefCatalog(store, TimeProvider.System, new DeliveryIndexOptions());

        Assert.DoesNotContain("WITHOUT ROWID", store.Read(c => Schema(c, "manifests"))!, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("WITHOUT ROWID", store.Read(c => Schema(c, "events"))!, StringComparison.OrdinalIgnoreCase);
        Assert.Null(store.Read(c => Schema(c, "manifests_without_rowid")));
        Assert.Equal("---\n{\"kind\":\"Workflow\"}\n", await catalog.FindManifestAsync("d-old"));
        Assert.Equal(["d-old"], (await catalog.ListEventsAsync(new EventQuery(null, null, null, 100, null))).Events.Select(e => e.Delivery));

        // The primary keys still hold: writing a delivery again replaces its row.
        await catalog.RecordManifestAsync("d-old", "---\n{}\n");
        await catalog.RecordEventsAsync([Line("d-old", at) with { State = EventStates.Applied }, Line("d-new", at.AddSeconds(1))]);
        Assert.Equal("---\n{}\n", await catalog.FindManifestAsync("d-old"));
        var lines = (await catalog.ListEventsAsync(new EventQuery(null, null, null, 100, null))).Events;
        Assert.Equal(["d-new", "d-old"], lines.Select(e => e.Delivery));
        Assert.Equal(EventStates.Applied, lines[1].State);
    }
}

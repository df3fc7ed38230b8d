using System.Globalization;
using Microsoft.Data.Sqlite;

namespace CiTrigger.Grains.Storage.Sqlite;

/// <summary>
/// Orleans' reminder table in <see cref="SqliteStore"/>, so the embedded default keeps its reminders
/// (and with them the list of refs that have pending work) across a restart.
/// </summary>
public sealed class SqliteReminderTable(SqliteStore store) : IReminderTable
{
    private const string Columns = "grain_id, name, etag, start_at, period";

    public Task Init() => Task.CompletedTask;

    public Task<ReminderTableData> ReadRows(GrainId grainId) =>
        Query($"SELECT {Columns} FROM reminders WHERE grain_id = $id", ("$id", grainId.ToString()));

    public Task<ReminderTableData> ReadRows(uint begin, uint end) =>

        // Orleans' ring ranges: (begin, end] when begin < end, otherwise the range wraps around.
        begin < end
            ? Query($"SELECT {Columns} FROM reminders WHERE grain_hash > $b AND grain_hash <= $e", ("$b", (long)begin), ("$e", (long)end))
            : Query($"SELECT {Columns} FROM reminders WHERE grain_hash > $b OR grain_hash <= $e", ("$b", (long)begin), ("$e", (long)end));

    public async Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) =>
        (await Query($"SELECT {Columns} FROM reminders WHERE grain_id = $id AND name = $name",
            ("$id", grainId.ToString()), ("$name", reminderName))).Reminders.FirstOrDefault();

    public Task<string?> UpsertRow(ReminderEntry entry)
    {
        var etag = Guid.NewGuid().ToString("N");
        var id = entry.GrainId.ToString();
        var hash = entry.GrainId.GetUniformHashCode();
        return store.WriteAsync<string?>(w =>
        {
            var command = w.Command("""
                INSERT INTO reminders (grain_id, name, grain_hash, etag, start_at, period) VALUES ($id, $name, $hash, $etag, $start, $period)
                ON CONFLICT (grain_id, name) DO UPDATE SET etag = excluded.etag, start_at = excluded.start_at, period = excluded.period
                """);
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$name", entry.ReminderName);
            command.Parameters.AddWithValue("$hash", (long)hash);
            command.Parameters.AddWithValue("$etag", etag);
            command.Parameters.AddWithValue("$start", entry.StartAt.ToUniversalTime().Ticks);
            command.Parameters.AddWithValue("$period", entry.Period.Ticks);
            command.ExecuteNonQuery();
            return etag;
        });
    }

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag)
    {
        var id = grainId.ToString();
        return store.WriteAsync(w =>
        {
            var command = w.Command("DELETE FROM reminders WHERE grain_id = $id AND name = $name AND etag = $etag");
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$name", reminderName);
            command.Parameters.AddWithValue("$etag", eTag);
            return command.ExecuteNonQuery() > 0;
        });
    }

    public Task TestOnlyClearTable() => store.WriteAsync(w => w.Command("DELETE FROM reminders").ExecuteNonQuery());

    private Task<ReminderTableData> Query(string sql, params (string Name, object Value)[] parameters) =>
        Task.FromResult(store.Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value);
            }

            using var reader = command.ExecuteReader();
            var rows = new List<ReminderEntry>();
            while (reader.Read())
            {
                rows.Add(ToEntry(reader));
            }

            return new ReminderTableData(rows);
        }));

    private static ReminderEntry ToEntry(SqliteDataReader reader) => new()
    {
        GrainId = GrainId.Parse(reader.GetString(0), CultureInfo.InvariantCulture),
        ReminderName = reader.GetString(1),
        ETag = reader.GetString(2),
        StartAt = new DateTime(reader.GetInt64(3), DateTimeKind.Utc),
        Period = TimeSpan.FromTicks(reader.GetInt64(4)),
    };
}

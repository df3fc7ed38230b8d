using Microsoft.Data.Sqlite;

namespace CiTrigger.Grains.Storage.Sqlite;

/// <summary>
/// The catalog tables whose rows run to hundreds of bytes or more: the kept manifests (up to 256 KiB) and
/// the recent-event lines (about half a kilobyte). They are ordinary rowid tables. A WITHOUT ROWID table
/// keeps whole rows in its primary-key B-tree, which suits rows of a few dozen bytes; rows this large leave
/// a few rows per page or spill into overflow pages, so every insert rewrote several pages of the WAL
/// (measured with SQLite in WAL mode at 30,000 rows: 45 instead of 16 µs of CPU per 500-byte row, 72 instead
/// of 15 per 1.1 KiB row, growing with the table). A database made with the earlier layout is rebuilt once
/// at start-up, keeping its rows.
/// </summary>
internal static class LargeRowTables
{
    private static readonly (string Table, string Index, string Schema)[] Tables =
    [
        ("manifests", "manifests_by_time", """
            CREATE TABLE IF NOT EXISTS manifests (id TEXT PRIMARY KEY, at INTEGER NOT NULL, text TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS manifests_by_time ON manifests (at);
            """),
        ("events", "events_by_time", """
            CREATE TABLE IF NOT EXISTS events (
                delivery TEXT PRIMARY KEY, at INTEGER NOT NULL, repository TEXT NOT NULL, state TEXT NOT NULL,
                summary TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS events_by_time ON events (at, delivery);
            """),
    ];

    /// <summary>Creates the tables, or rebuilds one made WITHOUT ROWID as a rowid table with the same rows (one transaction each).</summary>
    public static void Create(SqliteConnection connection)
    {
        foreach (var (table, index, schema) in Tables)
        {
            using var transaction = connection.BeginTransaction();
            if (IsWithoutRowid(connection, transaction, table))
            {
                Execute(connection, transaction, $"ALTER TABLE {table} RENAME TO {table}_without_rowid; DROP INDEX IF EXISTS {index};");
                Execute(connection, transaction, schema);
                Execute(connection, transaction, $"INSERT INTO {table} SELECT * FROM {table}_without_rowid; DROP TABLE {table}_without_rowid;");
            }
            else
            {
                Execute(connection, transaction, schema);
            }

            transaction.Commit();
        }
    }

    /// <summary>Whether <paramref name="table"/> exists in the WITHOUT ROWID layout.</summary>
    private static bool IsWithoutRowid(SqliteConnection connection, SqliteTransaction? transaction, string table)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $name";
        command.Parameters.AddWithValue("$name", table);
        return command.ExecuteScalar() is string sql && sql.Contains("WITHOUT ROWID", StringComparison.OrdinalIgnoreCase);
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

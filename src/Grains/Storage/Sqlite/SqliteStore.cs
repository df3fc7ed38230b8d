using System.Text;
using System.Threading.Channels;
using CiTrigger.Grains.Telemetry;
using Microsoft.Data.Sqlite;

namespace CiTrigger.Grains.Storage.Sqlite;

/// <summary>
/// The embedded default's durable store: one SQLite database in WAL mode holding grain state, reminders
/// and the ref catalog. All writes go through one writer that commits whatever is waiting in a single
/// transaction (group commit), so many grains writing at once pay for one fsync between them, while
/// every write still returns only after the commit that contains it. Each write runs in its own
/// savepoint: one failing write does not take its neighbours down with it. Committed writes are counted in
/// <see cref="StoreMetrics"/>, with the bytes of the parameters they bound.
/// </summary>
public sealed class SqliteStore : IAsyncDisposable
{
    private const int MaxBatch = 512;
    private readonly Channel<IWrite> writes = Channel.CreateUnbounded<IWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly string readConnectionString;
    private readonly SqliteConnection writer;
    private readonly Dictionary<string, SqliteCommand> commands = new(StringComparer.Ordinal);
    private readonly Task writerLoop;
    private readonly StoreMetrics? metrics;

    public SqliteStore(string path, StoreMetrics? metrics = null)
    {
        this.metrics = metrics;
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        // Reads run on the caller's thread (a grain's turn): a read that cannot get the database within a few
        // seconds fails (the caller answers 503 and GitHub redelivers) instead of holding a pool thread.
        var builder = new SqliteConnectionStringBuilder { DataSource = Path, Pooling = true, DefaultTimeout = 5 };
        readConnectionString = new SqliteConnectionStringBuilder(builder.ConnectionString) { Mode = SqliteOpenMode.ReadOnly }.ConnectionString;
        writer = new SqliteConnection(builder.ConnectionString);
        writer.Open();
        Execute(writer, """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            PRAGMA busy_timeout = 10000;
            CREATE TABLE IF NOT EXISTS grain_state (
                grain_id TEXT NOT NULL, state_name TEXT NOT NULL, etag INTEGER NOT NULL, data BLOB NOT NULL,
                PRIMARY KEY (grain_id, state_name)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS reminders (
                grain_id TEXT NOT NULL, name TEXT NOT NULL, grain_hash INTEGER NOT NULL, etag TEXT NOT NULL,
                start_at INTEGER NOT NULL, period INTEGER NOT NULL, PRIMARY KEY (grain_id, name)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS reminders_by_hash ON reminders (grain_hash);
            CREATE TABLE IF NOT EXISTS refs (
                key TEXT PRIMARY KEY, repository TEXT NOT NULL, summary TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS deliveries (
                id TEXT PRIMARY KEY, key TEXT NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS deliveries_by_time ON deliveries (at);
            CREATE TABLE IF NOT EXISTS running (
                delivery TEXT PRIMARY KEY, key TEXT NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;
            """);
        LargeRowTables.Create(writer);
        writerLoop = Task.Run(WriteLoopAsync);
    }

    public string Path { get; }

    /// <summary>Runs <paramref name="write"/> inside the next group commit; completes after that commit.</summary>
    public Task<T> WriteAsync<T>(Func<Writer, T> write)
    {
        var op = new Write<T>(write);
        return writes.Writer.TryWrite(op) ? op.Completion.Task : Task.FromException<T>(new ObjectDisposedException(nameof(SqliteStore)));
    }

    /// <summary>Runs a query on a pooled read-only connection (WAL readers never wait for the writer).</summary>
    public T Read<T>(Func<SqliteConnection, T> query)
    {
        using var connection = new SqliteConnection(readConnectionString);
        connection.Open();
        return query(connection);
    }

    public async ValueTask DisposeAsync()
    {
        writes.Writer.TryComplete();
        await writerLoop;
        foreach (var command in commands.Values)
        {
            await command.DisposeAsync();
        }

        await writer.DisposeAsync();
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "VSTHRD103", Justification = "The one writer loop owns its connection; Microsoft.Data.Sqlite's async methods run synchronously anyway.")]
    private async Task WriteLoopAsync()
    {
        var batch = new List<IWrite>(MaxBatch);
        var context = new Writer(this);
        while (await writes.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && writes.Reader.TryRead(out var op))
            {
                batch.Add(op);
            }

            try
            {
                using var transaction = writer.BeginTransaction();
                context.Transaction = transaction;
                var bound = 0L;
                foreach (var op in batch)
                {
                    context.Command("SAVEPOINT w").ExecuteNonQuery();
                    var ran = op.Run(context);
                    bound += context.TakeBoundBytes();
                    context.Command(ran ? "RELEASE w" : "ROLLBACK TO w; RELEASE w").ExecuteNonQuery();
                }

                transaction.Commit();
                metrics?.Written(StoreMetrics.Sqlite, batch.Count, bound);
                foreach (var op in batch)
                {
                    op.Complete();
                }
            }
            catch (Exception e)
            {
                foreach (var op in batch)
                {
                    op.Fail(e);
                }
            }
            finally
            {
                context.Transaction = null;
            }
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>What a write sees: prepared commands on the writer connection, inside the batch's transaction.</summary>
    public sealed class Writer(SqliteStore store)
    {
        // The command handed out last, whose parameters are counted before they are cleared or the write ends.
        private SqliteCommand? current;
        private long boundBytes;

        internal SqliteTransaction? Transaction { get; set; }

        /// <summary>A prepared command for <paramref name="sql"/>, reused across batches, parameters cleared.</summary>
        public SqliteCommand Command(string sql)
        {
            CountBound();
            if (!store.commands.TryGetValue(sql, out var command))
            {
                command = store.writer.CreateCommand();
                command.CommandText = sql;
                store.commands[sql] = command;
            }

            command.Transaction = Transaction;
            command.Parameters.Clear();
            current = command;
            return command;
        }

        /// <summary>The bytes bound to the commands of the write that just ran: text as UTF-8, blobs, 8 per number.</summary>
        internal long TakeBoundBytes()
        {
            CountBound();
            var taken = boundBytes;
            boundBytes = 0;
            return taken;
        }

        private void CountBound()
        {
            var counted = current;
            current = null;
            if (counted is null || store.metrics is null)
            {
                return;
            }

            foreach (SqliteParameter parameter in counted.Parameters)
            {
                boundBytes += parameter.Value switch
                {
                    string text => Encoding.UTF8.GetByteCount(text),
                    byte[] blob => blob.Length,
                    null or DBNull => 0,
                    _ => sizeof(long),
                };
            }
        }
    }

    private interface IWrite
    {
        /// <summary>False when the write failed on its own; its savepoint is rolled back.</summary>
        bool Run(Writer context);

        void Complete();

        void Fail(Exception error);
    }

    private sealed class Write<T>(Func<Writer, T> write) : IWrite
    {
        private T? result;
        private Exception? error;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Run(Writer context)
        {
            try
            {
                result = write(context);
                return true;
            }
            catch (Exception e)
            {
                error = e;
                return false;
            }
        }

        public void Complete()
        {
            if (error is null)
            {
                Completion.TrySetResult(result!);
            }
            else
            {
                Completion.TrySetException(error);
            }
        }

        public void Fail(Exception e) => Completion.TrySetException(e);
    }
}

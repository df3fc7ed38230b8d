using System.Text;
using CiTrigger.Grains.Telemetry;

namespace CiTrigger.Grains.Storage.Redis;

/// <summary>
/// Orleans' Redis reminder table with its writes counted (<see cref="StoreMetrics"/>): one per upsert or removal,
/// with the bytes the embedded store binds for the same row (grain id, name and ETag as UTF-8, 8 bytes for each of
/// hash, start and period of an upsert), so that both stores count a reminder alike. Reads pass through uncounted.
/// </summary>
public sealed class MeteredReminderTable(IReminderTable inner, StoreMetrics metrics) : IReminderTable, IAsyncDisposable
{
    public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);

    public Task Init() => inner.StartAsync();

    public Task StopAsync(CancellationToken cancellationToken = default) => inner.StopAsync(cancellationToken);

    public Task<ReminderTableData> ReadRows(GrainId grainId) => inner.ReadRows(grainId);

    public Task<ReminderTableData> ReadRows(uint begin, uint end) => inner.ReadRows(begin, end);

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => inner.ReadRow(grainId, reminderName);

    public async Task<string?> UpsertRow(ReminderEntry entry)
    {
        var etag = await inner.UpsertRow(entry);
        metrics.Written(StoreMetrics.Redis, 1, Size(entry.GrainId.ToString()) + Size(entry.ReminderName) + Size(etag) + (3 * sizeof(long)));
        return etag;
    }

    public async Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag)
    {
        var removed = await inner.RemoveRow(grainId, reminderName, eTag);
        metrics.Written(StoreMetrics.Redis, 1, Size(grainId.ToString()) + Size(reminderName) + Size(eTag));
        return removed;
    }

    public Task TestOnlyClearTable() => inner.TestOnlyClearTable();

    public async ValueTask DisposeAsync()
    {
        switch (inner)
        {
            case IAsyncDisposable disposable:
                await disposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    private static long Size(string? text) => text is null ? 0 : Encoding.UTF8.GetByteCount(text);
}

using System.Text;
using System.Text.Json;
using CiTrigger.Grains.Kubernetes;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>
/// A watch's events are parsed from the response's bytes as they arrive, whatever the reads cut them into:
/// each line is one event, blank lines are skipped, and nothing is grown without bound.
/// </summary>
public class WatchLinesTests
{
    private static string Event(string type, string name, int padding = 0) =>
        $$$"""{"type":"{{{type}}}","object":{"metadata":{"name":"{{{name}}}","resourceVersion":"{{{name.Length}}}"},"pad":"{{{new string('p', padding)}}}"}}""";

    private static async Task<List<string>> ReadAllAsync(Stream body)
    {
        var names = new List<string>();
        await using var lines = new WatchLines(body);
        while (await lines.NextAsync(TestContext.Current.CancellationToken) is { } line)
        {
            names.Add(line.GetProperty("type").GetString() + " " + line.GetProperty("object").GetProperty("metadata").GetProperty("name").GetString());
        }

        return names;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    public async Task Events_are_read_one_per_line_whatever_the_reads_cut_them_into(int chunk)
    {
        // Events longer than the reader's buffer, and lines cut anywhere, even inside a multi-byte character.
        var text = Event("ADDED", "a") + "\n" + Event("MODIFIED", "bé", padding: 40_000) + "\r\n\n  \n" + Event("DELETED", "c", padding: 17) + "\n";
        var names = await ReadAllAsync(new ChunkedStream(Encoding.UTF8.GetBytes(text), chunk));
        Assert.Equal(["ADDED a", "MODIFIED bé", "DELETED c"], names);
    }

    [Fact]
    public async Task A_last_line_without_a_newline_is_an_event_and_trailing_blanks_are_not()
    {
        Assert.Equal(["ADDED a", "ADDED b"], await ReadAllAsync(new ChunkedStream(Encoding.UTF8.GetBytes(Event("ADDED", "a") + "\n" + Event("ADDED", "b")), 5)));
        Assert.Equal(["ADDED a"], await ReadAllAsync(new ChunkedStream(Encoding.UTF8.GetBytes(Event("ADDED", "a") + "\n \r\n"), 3)));
        Assert.Empty(await ReadAllAsync(new ChunkedStream([], 1)));
    }

    [Fact]
    public async Task A_line_that_is_not_json_fails_and_the_events_before_it_were_read()
    {
        var body = new ChunkedStream(Encoding.UTF8.GetBytes(Event("ADDED", "a") + "\n{\"type\":\"MODIFIED\",\"object\":\n" + Event("ADDED", "b") + "\n"), 11);
        await using var lines = new WatchLines(body);
        Assert.Equal("a", (await lines.NextAsync(TestContext.Current.CancellationToken))!.Value.GetProperty("object").GetProperty("metadata").GetProperty("name").GetString());
        await Assert.ThrowsAnyAsync<JsonException>(async () => await lines.NextAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_line_longer_than_the_limit_ends_the_watch_as_broken_before_it_is_all_read()
    {
        var body = new EndlessLine();
        await using var lines = new WatchLines(body);
        var broken = await Assert.ThrowsAsync<WatchBrokenException>(async () => await lines.NextAsync(TestContext.Current.CancellationToken));
        Assert.Contains($"longer than {WatchLines.MaxLine} bytes", broken.Message, StringComparison.Ordinal);
        Assert.InRange(body.Served, WatchLines.MaxLine, WatchLines.MaxLine + (1 << 20));
    }

    [Fact]
    public async Task An_event_stays_readable_until_the_next_one_is_asked_for()
    {
        var text = Event("ADDED", "first", padding: 100) + "\n" + Event("ADDED", "second", padding: 100) + "\n";
        await using var lines = new WatchLines(new ChunkedStream(Encoding.UTF8.GetBytes(text), 1 << 20));
        var first = (await lines.NextAsync(TestContext.Current.CancellationToken))!.Value;
        Assert.Equal("first", first.GetProperty("object").GetProperty("metadata").GetProperty("name").GetString());
        var second = (await lines.NextAsync(TestContext.Current.CancellationToken))!.Value;
        Assert.Equal("second", second.GetProperty("object").GetProperty("metadata").GetProperty("name").GetString());
        Assert.Throws<ObjectDisposedException>(() => first.GetProperty("type"));
    }

    /// <summary>A response body that gives at most <paramref name="chunk"/> bytes a read.</summary>
    private sealed class ChunkedStream(byte[] bytes, int chunk) : Body
    {
        private int position;

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(Math.Min(chunk, buffer.Length), bytes.Length - position);
            bytes.AsSpan(position, n).CopyTo(buffer);
            position += n;
            return n;
        }
    }

    /// <summary>A body that is one line that never ends: counts what it served.</summary>
    private sealed class EndlessLine : Body
    {
        public long Served { get; private set; }

        public override int Read(Span<byte> buffer)
        {
            buffer.Fill((byte)'x');
            Served += buffer.Length;
            return buffer.Length;
        }
    }

    /// <summary>A read-only, unseekable stream, as a response body is.</summary>
    private abstract class Body : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public abstract override int Read(Span<byte> buffer);

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

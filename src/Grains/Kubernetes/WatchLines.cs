using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>
/// A watch's events (one JSON object per line) parsed straight from the response's UTF-8 bytes as they arrive:
/// no line is turned into a string first. An event is parsed in place from the reader's buffer, so the element
/// <see cref="NextAsync"/> returns is valid until the next call or until this is disposed.
/// </summary>
public sealed class WatchLines(Stream body) : IAsyncDisposable
{
    /// <summary>
    /// The longest line read: a longer one ends the watch as broken instead of growing the buffer without bound
    /// (etcd stores objects of at most 1.5 MB, so a real event is far below it).
    /// </summary>
    public const int MaxLine = 8 * 1024 * 1024;

    private readonly PipeReader reader = PipeReader.Create(body, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true));

    private JsonDocument? current;
    private SequencePosition? consumed;
    private long searched;

    /// <summary>The next non-blank line's JSON, or null when the server ended the watch.</summary>
    /// <exception cref="JsonException">The line is not JSON.</exception>
    /// <exception cref="WatchBrokenException">The line is longer than <see cref="MaxLine"/>.</exception>
    public async ValueTask<JsonElement?> NextAsync(CancellationToken ct)
    {
        Release();
        while (true)
        {
            var result = await reader.ReadAsync(ct);
            var buffer = result.Buffer;
            while (buffer.Slice(searched).PositionOf((byte)'\n') is { } newline)
            {
                searched = 0;
                var line = buffer.Slice(0, newline);
                var next = buffer.GetPosition(1, newline);
                if (!IsBlank(line))
                {
                    return Hold(line, next);
                }

                buffer = buffer.Slice(next);
            }

            // The open line's bytes so far hold no newline: the next read is searched from where they end.
            searched = buffer.Length;

            if (result.IsCompleted)
            {
                if (!IsBlank(buffer))
                {
                    return Hold(buffer, buffer.End);
                }

                reader.AdvanceTo(buffer.End);
                return null;
            }

            if (buffer.Length > MaxLine)
            {
                searched = 0;
                reader.AdvanceTo(buffer.End);
                throw new WatchBrokenException($"a line of the watch is longer than {MaxLine} bytes");
            }

            // Nothing of the open line is consumed; wait for more than what is there.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await reader.CompleteAsync();
    }

    private JsonElement Hold(ReadOnlySequence<byte> line, SequencePosition next)
    {
        // The document reads a single-segment line in place: the buffer is kept until the next call.
        consumed = next;
        try
        {
            current = JsonDocument.Parse(line);
        }
        catch
        {
            Release();
            throw;
        }

        return current.RootElement;
    }

    private void Release()
    {
        current?.Dispose();
        current = null;
        if (consumed is { } position)
        {
            (consumed, searched) = (null, 0);
            reader.AdvanceTo(position);
        }
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            if (segment.Span.IndexOfAnyExcept(" \t\r"u8) >= 0)
            {
                return false;
            }
        }

        return true;
    }
}

using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace CiTrigger.Gateway.Webhooks;

public enum BodyRead
{
    Complete,

    /// <summary>Over <c>Webhook:MaxPayloadBytes</c>.</summary>
    TooLarge,

    /// <summary>Reading on would cross <c>Webhook:MaxUnverifiedBytes</c>.</summary>
    OverBudget,

    /// <summary>The client broke off or sent a malformed body.</summary>
    Broken,
}

/// <summary>
/// A request body in pooled segments that grow with what actually arrived, never with what
/// <c>Content-Length</c> announces. Every segment is taken from the <see cref="UnverifiedBodyBudget"/>
/// before it is filled and given back on <see cref="Verified"/> or <see cref="Dispose"/>.
/// </summary>
public sealed class WebhookBody : IDisposable
{
    private const int FirstSegment = 4 * 1024;
    private const int LargestSegment = 1024 * 1024;

    private readonly List<byte[]> segments = [];
    private readonly UnverifiedBodyBudget budget;
    private long reserved;
    private int lastUsed;

    private WebhookBody(UnverifiedBodyBudget budget) => this.budget = budget;

    public long Length { get; private set; }

    /// <summary>The bytes as received, valid until <see cref="Dispose"/>.</summary>
    public ReadOnlySequence<byte> Bytes
    {
        get
        {
            if (segments.Count == 0)
            {
                return ReadOnlySequence<byte>.Empty;
            }

            if (segments.Count == 1)
            {
                return new ReadOnlySequence<byte>(segments[0], 0, lastUsed);
            }

            var first = new Segment(segments[0].AsMemory(), 0);
            var last = first;
            for (var i = 1; i < segments.Count; i++)
            {
                last = last.Append(segments[i].AsMemory(0, i == segments.Count - 1 ? lastUsed : segments[i].Length));
            }

            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }
    }

    /// <summary>
    /// Reads the body of <paramref name="http"/>; <paramref name="limit"/> counts the body's bytes, not the
    /// chunked framing around them. The body is returned in every case and must be disposed.
    /// </summary>
    public static async Task<(WebhookBody Body, BodyRead Outcome)> ReadAsync(HttpContext http, long limit, UnverifiedBodyBudget budget)
    {
        var body = new WebhookBody(budget);
        var announced = http.Request.ContentLength;
        if (announced > limit)
        {
            return (body, BodyRead.TooLarge);
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            // Kestrel counts chunked framing (size lines, extensions, CRLFs) against this limit. The body's
            // own bytes are counted below, exactly; Kestrel's limit stays as a backstop against framing
            // without end, generous enough for chunks down to a few bytes each.
            sizeFeature.MaxRequestBodySize = announced is null ? 2 * limit + 64 * 1024 : limit;
        }

        try
        {
            return (body, await body.FillAsync(http.Request.Body, announced ?? limit + 1, limit, http.RequestAborted));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (body, BodyRead.TooLarge);
        }
        catch (Exception e) when (e is BadHttpRequestException or IOException or OperationCanceledException)
        {
            return (body, BodyRead.Broken);
        }
    }

    /// <summary>The signature matched: the bytes no longer count against the unverified budget.</summary>
    public void Verified()
    {
        budget.Release(reserved);
        reserved = 0;
    }

    public void Dispose()
    {
        Verified();
        foreach (var segment in segments)
        {
            ArrayPool<byte>.Shared.Return(segment);
        }

        segments.Clear();
        Length = 0;
    }

    private async Task<BodyRead> FillAsync(Stream source, long readUpTo, long limit, CancellationToken aborted)
    {
        while (Length < readUpTo)
        {
            if (segments.Count == 0 || lastUsed == segments[^1].Length)
            {
                var size = (int)Math.Min(segments.Count == 0 ? FirstSegment : Math.Min(2L * segments[^1].Length, LargestSegment), readUpTo - Length);
                var segment = ArrayPool<byte>.Shared.Rent(size);
                if (!budget.TryReserve(segment.Length))
                {
                    ArrayPool<byte>.Shared.Return(segment);
                    return BodyRead.OverBudget;
                }

                reserved += segment.Length;
                segments.Add(segment);
                lastUsed = 0;
            }

            var current = segments[^1];
            var read = await source.ReadAsync(current.AsMemory(lastUsed, (int)Math.Min(current.Length - lastUsed, readUpTo - Length)), aborted);
            if (read == 0)
            {
                break;
            }

            lastUsed += read;
            Length += read;
        }

        return Length > limit ? BodyRead.TooLarge : BodyRead.Complete;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}

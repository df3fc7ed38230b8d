using CiTrigger.Grains.Pipeline;

namespace CiTrigger.Grains.GitHub;

/// <summary>
/// Stops reading a response once it passes a byte limit, whether or not it announced its length: a
/// repository file is untrusted input, and Octokit would otherwise buffer whatever arrives.
/// </summary>
public sealed class ResponseSizeLimit(long maxBytes) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.Content.Headers.ContentLength > maxBytes)
        {
            var length = response.Content.Headers.ContentLength;
            response.Dispose();
            throw new ManifestException($"the file has {length} bytes, more than the limit of {maxBytes}");
        }

        var original = response.Content;
        var limited = new StreamContent(new LimitedStream(await original.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), maxBytes));
        foreach (var header in original.Headers)
        {
            limited.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        response.Content = limited;
        return response;
    }

    private sealed class LimitedStream(Stream inner, long maxBytes) : Stream
    {
        private long read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private int Count(int n)
        {
            read += n;
            return read > maxBytes ? throw new ManifestException($"the file has more than {maxBytes} bytes") : n;
        }
    }
}

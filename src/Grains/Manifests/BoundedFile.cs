namespace CiTrigger.Grains.Manifests;

/// <summary>
/// A file read only up to a limit: a regular file over it is refused by its size before anything is read, and a
/// device or pipe without end (<c>/dev/zero</c>) once it passes the limit. Shared by the local manifest source
/// and the command line's file arguments, which word the refusal each their own way.
/// </summary>
public static class BoundedFile
{
    /// <param name="path">The file.</param>
    /// <param name="limit">The most bytes read.</param>
    /// <param name="tooLarge">The exception thrown past the limit, given the file's size when it is known before reading.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public static async Task<byte[]> ReadAsync(string path, long limit, Func<long?, Exception> tooLarge, CancellationToken cancellationToken = default)
    {
        if (new FileInfo(path) is { Exists: true } info && info.Length > limit)
        {
            throw tooLarge(info.Length);
        }

        await using var stream = File.OpenRead(path);
        using var content = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (content.Length + read > limit)
            {
                throw tooLarge(null);
            }

            await content.WriteAsync(chunk.AsMemory(0, read), cancellationToken);
        }

        return content.ToArray();
    }
}

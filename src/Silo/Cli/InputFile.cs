namespace CiTrigger.Silo.Cli;

/// <summary>
/// A file named on the command line, read only up to a limit: a regular file over it is refused by its
/// size before anything is read, and a device or pipe without end (<c>/dev/zero</c>) once it passes the limit.
/// </summary>
public static class InputFile
{
    public static async Task<byte[]> ReadAsync(string path, long limit, string limitName)
    {
        var tooLarge = $"{path} is larger than {limit} bytes ({limitName})";
        if (new FileInfo(path) is { Exists: true } info && info.Length > limit)
        {
            throw new IOException(tooLarge);
        }

        await using var stream = File.OpenRead(path);
        using var content = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk)) > 0)
        {
            if (content.Length + read > limit)
            {
                throw new IOException(tooLarge);
            }

            await content.WriteAsync(chunk.AsMemory(0, read));
        }

        return content.ToArray();
    }
}

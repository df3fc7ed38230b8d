using CiTrigger.Grains.Manifests;

namespace CiTrigger.Silo.Cli;

/// <summary>
/// A file named on the command line, read only up to a limit (<see cref="BoundedFile"/>), refused in the
/// command's words: the file, the limit and the setting it comes from.
/// </summary>
public static class InputFile
{
    public static Task<byte[]> ReadAsync(string path, long limit, string limitName) =>
        BoundedFile.ReadAsync(path, limit, _ => new IOException($"{path} is larger than {limit} bytes ({limitName})"));
}

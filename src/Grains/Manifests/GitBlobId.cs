using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CiTrigger.Grains.Manifests;

/// <summary>
/// The name git gives a file's content: the hash of <c>blob {length}\0</c> followed by the bytes, in lower-case hex
/// (what <c>git hash-object</c> prints). SHA-1 (40 digits) unless a SHA-256 repository's 64 are asked for.
/// </summary>
public static class GitBlobId
{
    /// <summary>The SHA-1 blob id of <paramref name="content"/>.</summary>
    public static string Of(ReadOnlySpan<byte> content) => Of(content, HashAlgorithmName.SHA1);

    /// <summary>
    /// Whether <paramref name="content"/> is the blob <paramref name="blobSha"/> (a SHA-1 id of 40 digits or a SHA-256
    /// id of 64, lower-case).
    /// </summary>
    public static bool Matches(ReadOnlySpan<byte> content, string blobSha) => blobSha.Length switch
    {
        40 => string.Equals(Of(content, HashAlgorithmName.SHA1), blobSha, StringComparison.Ordinal),
        64 => string.Equals(Of(content, HashAlgorithmName.SHA256), blobSha, StringComparison.Ordinal),
        _ => false,
    };

    /// <summary>
    /// The SHA-1 blob id of the <paramref name="length"/> bytes <paramref name="content"/> holds, hashed as they are read;
    /// null when the stream does not hold exactly that many.
    /// </summary>
    public static async Task<string?> OfAsync(Stream content, long length, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        hash.AppendData(Header(length));
        var chunk = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await content.ReadAsync(chunk, cancellationToken)) > 0)
        {
            total += read;
            if (total > length)
            {
                return null;
            }

            hash.AppendData(chunk, 0, read);
        }

        return total == length ? Convert.ToHexStringLower(hash.GetHashAndReset()) : null;
    }

    private static byte[] Header(long length) =>
        Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"blob {length}\0"));

    private static string Of(ReadOnlySpan<byte> content, HashAlgorithmName algorithm)
    {
        using var hash = IncrementalHash.CreateHash(algorithm);
        hash.AppendData(Header(content.Length));
        hash.AppendData(content);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}

using System.Buffers;
using System.Security.Cryptography;

namespace CiTrigger.Gateway.Webhooks;

public enum SignatureCheck
{
    Valid,
    Missing,
    Malformed,
    Mismatch,
}

/// <summary>
/// GitHub's <c>X-Hub-Signature-256</c>: <c>sha256=</c> and the hex HMAC-SHA256 of the raw body. Compared in
/// constant time against every configured secret, so a rotation can run with two secrets at once. The
/// SHA-1 header is never looked at.
/// </summary>
public static class WebhookSignature
{
    public const string Header = "X-Hub-Signature-256";
    private const string Prefix = "sha256=";

    public static SignatureCheck Verify(byte[] body, string? header, IReadOnlyList<byte[]> secrets) =>
        Verify(new ReadOnlySequence<byte>(body), header, secrets);

    /// <summary>Checks a body held in segments, as the receiver reads it, without joining them.</summary>
    public static SignatureCheck Verify(ReadOnlySequence<byte> body, string? header, IReadOnlyList<byte[]> secrets)
    {
        if (string.IsNullOrEmpty(header))
        {
            return SignatureCheck.Missing;
        }

        Span<byte> claimed = stackalloc byte[32];
        if (!header.StartsWith(Prefix, StringComparison.Ordinal) || header.Length != Prefix.Length + 64
            || Convert.FromHexString(header.AsSpan(Prefix.Length), claimed, out _, out var written) != OperationStatus.Done
            || written != 32)
        {
            return SignatureCheck.Malformed;
        }

        Span<byte> actual = stackalloc byte[32];
        var match = false;
        foreach (var secret in secrets)
        {
            using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
            foreach (var segment in body)
            {
                hmac.AppendData(segment.Span);
            }

            hmac.GetHashAndReset(actual);
            match |= CryptographicOperations.FixedTimeEquals(actual, claimed);
        }

        return match ? SignatureCheck.Valid : SignatureCheck.Mismatch;
    }

    /// <summary>The header value GitHub would send for <paramref name="body"/>.</summary>
    public static string Sign(ReadOnlySpan<byte> body, byte[] secret) =>
        Prefix + Convert.ToHexStringLower(HMACSHA256.HashData(secret, body));
}

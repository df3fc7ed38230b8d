using System.Buffers;
using System.Security.Cryptography;

namespace CiTrigger.Gateway.Forges.GitHub;

/// <summary>
/// GitHub's <c>X-Hub-Signature-256</c>: <c>sha256=</c> and the hex HMAC-SHA256 of the raw body. Compared in
/// constant time against every configured secret, so a rotation can run with two secrets at once. The
/// SHA-1 header is never looked at. The answer is a result that says what is wrong, in GitHub's words, not a bool.
/// </summary>
public static class GitHubSignature
{
    private const string Prefix = "sha256=";

    public static SignatureVerification Verify(byte[] body, string? header, IReadOnlyList<byte[]> secrets) =>
        Verify(new ReadOnlySequence<byte>(body), header, secrets);

    /// <summary>Checks a body held in segments, as the receiver reads it, without joining them.</summary>
    public static SignatureVerification Verify(ReadOnlySequence<byte> body, string? header, IReadOnlyList<byte[]> secrets) =>
        Check(body, header, secrets) switch
        {
            SignatureCheck.Valid => SignatureVerification.Valid,
            SignatureCheck.Missing => new(SignatureCheck.Missing, $"missing {GitHubHeaders.Signature} (the SHA-1 X-Hub-Signature alone is not accepted)"),
            SignatureCheck.Malformed => new(SignatureCheck.Malformed, $"{GitHubHeaders.Signature} is not of the form sha256=<64 hex digits>"),
            var mismatch => new(mismatch, $"{GitHubHeaders.Signature} does not match the body for any configured secret"),
        };

    private static SignatureCheck Check(ReadOnlySequence<byte> body, string? header, IReadOnlyList<byte[]> secrets)
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

using System.Web;

namespace CiTrigger.Gateway.Forges.GitHub;

/// <summary>
/// The <c>payload</c> field of an <c>application/x-www-form-urlencoded</c> webhook body, percent-decoded to
/// bytes. Not through ASP.NET's form reader: it decodes to a string and leaves an escape that is not UTF-8
/// (<c>%ED%A0%80</c>) in the text as it was, so a payload that is not UTF-8 would pass as one that is.
/// </summary>
public static class FormPayload
{
    private const string Field = "payload";

    /// <summary>The decoded bytes of the one <c>payload</c> field, or null when there is none or more than one.</summary>
    public static byte[]? Read(ArraySegment<byte> body)
    {
        var bytes = body.Array ?? [];
        byte[]? payload = null;
        foreach (var range in body.AsSpan().Split((byte)'&'))
        {
            var (start, length) = range.GetOffsetAndLength(body.Count);
            start += body.Offset;
            var equals = bytes.AsSpan(start, length).IndexOf((byte)'=');
            var nameLength = equals < 0 ? length : equals;
            if (!IsPayloadName(bytes, start, nameLength))
            {
                continue;
            }

            if (payload is not null)
            {
                return null;
            }

            payload = equals < 0 ? [] : HttpUtility.UrlDecodeToBytes(bytes, start + equals + 1, length - equals - 1);
        }

        return payload;
    }

    // The name may be percent-encoded too; "payload" is at most three bytes per letter that way.
    private static bool IsPayloadName(byte[] body, int start, int length) =>
        length >= Field.Length && length <= 3 * Field.Length
        && HttpUtility.UrlDecodeToBytes(body, start, length).AsSpan().SequenceEqual("payload"u8);
}

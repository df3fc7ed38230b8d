using System.Security.Cryptography;
using System.Text;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// Delivery ids the service makes for events it queues itself (a re-test, a re-run): <c>{delivery}-{kind}-{n}</c>
/// with the first n the ref and the delivery index do not know, counted from the original delivery (a re-run
/// of a re-run does not grow the id). The id is also a label value (63 characters at most); when the original
/// is too long for that, <c>{kind}-{n}-</c> and a hash of it stand in.
/// </summary>
public static class DerivedDeliveryId
{
    public static async Task<string> NextAsync(string delivery, string kind, Func<string, Task<bool>> isKnown)
    {
        var root = Root(delivery, kind);
        for (var n = 1; ; n++)
        {
            var id = $"{root}-{kind}-{n}";
            if (!Names.IsDeliveryId(id))
            {
                id = $"{kind}-{n}-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(root)))[..40];
            }

            if (!await isKnown(id))
            {
                return id;
            }
        }
    }

    /// <summary>The delivery an id was derived from: <c>x</c> for <c>x-{kind}-3</c>, the id itself otherwise.</summary>
    public static string Root(string delivery, string kind)
    {
        var marker = delivery.LastIndexOf($"-{kind}-", StringComparison.Ordinal);
        var number = marker > 0 ? delivery[(marker + kind.Length + 2)..] : "";
        return number.Length > 0 && number.All(char.IsAsciiDigit) ? delivery[..marker] : delivery;
    }
}

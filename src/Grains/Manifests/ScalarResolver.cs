using System.Globalization;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Pipeline;

namespace CiTrigger.Grains.Manifests;

/// <summary>
/// Types plain YAML scalars the way Kubernetes does (sigs.k8s.io/yaml over go-yaml v2, YAML 1.1), so a
/// manifest means here what it means to <c>kubectl apply</c>: <c>0755</c> is the octal 493, <c>yes</c> and
/// <c>on</c> are true, <c>~</c> is null. Quoted and block scalars never come here: they stay strings.
/// </summary>
public static class ScalarResolver
{
    private static readonly HashSet<string> Nulls = ["", "~", "null", "Null", "NULL"];
    private static readonly HashSet<string> Trues = ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"];
    private static readonly HashSet<string> Falses = ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"];
    private static readonly HashSet<string> NotNumbers =
        [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN"];

    public static JsonNode? ResolvePlain(string text)
    {
        if (Nulls.Contains(text))
        {
            return null;
        }

        if (Trues.Contains(text))
        {
            return JsonValue.Create(true);
        }

        if (Falses.Contains(text))
        {
            return JsonValue.Create(false);
        }

        if (NotNumbers.Contains(text))
        {
            throw new ManifestException($"the value '{text}' has no JSON representation; quote it to keep it a string");
        }

        return TryNumber(text) ?? JsonValue.Create(text);
    }

    /// <summary>Go's strconv rules as go-yaml applies them: base prefixes, a leading-zero octal, underscores.</summary>
    public static JsonNode? TryNumber(string text)
    {
        if (text.Length == 0 || !(char.IsAsciiDigit(text[0]) || text[0] is '-' or '+' or '.'))
        {
            return null;
        }

        var plain = text.Replace("_", "", StringComparison.Ordinal);
        if (TryInteger(plain, out var integer))
        {
            return integer;
        }

        if (IsFloat(plain) && double.TryParse(plain, NumberStyles.Float, CultureInfo.InvariantCulture, out var real)
            && double.IsFinite(real))
        {
            return JsonValue.Create(real);
        }

        return null;
    }

    private static bool TryInteger(string text, out JsonNode? value)
    {
        value = null;
        var negative = text.StartsWith('-');
        var digits = text.TrimStart('-', '+');
        if (text.Length - digits.Length > 1 || digits.Length == 0)
        {
            return false;
        }

        var (radix, body) = digits switch
        {
            ['0', 'x' or 'X', .. var rest] => (16, rest),
            ['0', 'o' or 'O', .. var rest] => (8, rest),
            ['0', 'b' or 'B', .. var rest] => (2, rest),
            ['0', _, ..] => (8, digits[1..]),
            _ => (10, digits),
        };
        if (body.Length == 0 || body.Length > 64)
        {
            return false;
        }

        System.Numerics.BigInteger magnitude = 0;
        foreach (var c in body)
        {
            var digit = HexValue(c);
            if (digit < 0 || digit >= radix)
            {
                return false;
            }

            magnitude = (magnitude * radix) + digit;
        }

        var signed = negative ? -magnitude : magnitude;
        if (signed >= long.MinValue && signed <= long.MaxValue)
        {
            value = JsonValue.Create((long)signed);
            return true;
        }

        if (!negative && signed <= ulong.MaxValue)
        {
            value = JsonValue.Create((ulong)signed);
            return true;
        }

        return false;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    // YAML 1.1's float form as go-yaml checks it before calling ParseFloat: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
    private static bool IsFloat(string s)
    {
        var i = 0;
        if (i < s.Length && s[i] is '-' or '+')
        {
            i++;
        }

        var intDigits = CountDigits(s, ref i);
        var fracDigits = 0;
        if (i < s.Length && s[i] == '.')
        {
            i++;
            fracDigits = CountDigits(s, ref i);
            if (intDigits == 0 && fracDigits == 0)
            {
                return false;
            }
        }
        else if (intDigits == 0)
        {
            return false;
        }

        if (i < s.Length && s[i] is 'e' or 'E')
        {
            i++;
            if (i < s.Length && s[i] is '-' or '+')
            {
                i++;
            }

            if (CountDigits(s, ref i) == 0)
            {
                return false;
            }
        }

        return i == s.Length;
    }

    private static int CountDigits(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            i++;
        }

        return i - start;
    }
}

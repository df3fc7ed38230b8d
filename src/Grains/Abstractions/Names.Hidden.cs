using System.Buffers;
using System.Globalization;
using System.Text;

namespace CiTrigger.Grains.Abstractions;

public static partial class Names
{
    /// <summary>
    /// Where the first hidden character of <paramref name="value"/> is, or -1: a control character (Cc: NUL,
    /// "\n", U+0085, …), a format character (Cf: right-to-left override U+202E, zero-width space U+200B,
    /// byte order mark U+FEFF, …), a line or paragraph separator, or half of a surrogate pair. None of them
    /// shows as itself in a terminal or a web page, so a name containing one can pass for another name.
    /// </summary>
    public static int IndexOfHidden(ReadOnlySpan<char> value)
    {
        for (var i = 0; i < value.Length;)
        {
            if (Rune.DecodeFromUtf16(value[i..], out var rune, out var used) != OperationStatus.Done || IsHidden(rune))
            {
                return i;
            }

            i += used;
        }

        return -1;
    }

    /// <summary>
    /// <paramref name="value"/> as messages and logs may show it: hidden characters and backslashes as
    /// C#-style escapes (<c>\u202E</c>, <c>\\</c>), cut after <paramref name="max"/> characters of the input.
    /// </summary>
    public static string Escape(string value, int max = 80)
    {
        var shown = new StringBuilder(Math.Min(value.Length, max) + 8);
        var i = 0;
        while (i < value.Length && i < max)
        {
            if (Rune.DecodeFromUtf16(value.AsSpan(i), out var rune, out var used) != OperationStatus.Done)
            {
                shown.Append(CultureInfo.InvariantCulture, $"\\u{(int)value[i]:X4}");
                i++;
                continue;
            }

            if (rune.Value == '\\')
            {
                shown.Append(@"\\");
            }
            else if (IsHidden(rune))
            {
                shown.Append(rune.IsBmp ? @"\u" : @"\U").Append(rune.Value.ToString(rune.IsBmp ? "X4" : "X8", CultureInfo.InvariantCulture));
            }
            else
            {
                shown.Append(value, i, used);
            }

            i += used;
        }

        return i < value.Length ? shown.Append('…').ToString() : shown.ToString();
    }

    private static bool IsHidden(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
}

using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;

namespace CiTrigger.Gateway.Ui;

/// <summary>
/// Markup of the status page. It is made only by <see cref="Of"/>, from the literal text the code writes
/// and values that are HTML-encoded on the way in, so a repository, ref, error or any other value can
/// never become markup: refs and commit data come from whoever can push to a repository.
/// </summary>
public sealed class Html
{
    public static readonly Html Empty = new("");

    private Html(string markup) => Markup = markup;

    public string Markup { get; }

    /// <summary>Markup from an interpolated string: every hole is encoded, except holes that are already <see cref="Html"/>.</summary>
    public static Html Of(HtmlBuilder builder) => new(builder.Build());

    public static Html Join(IEnumerable<Html> parts) => new(string.Concat(parts.Select(p => p.Markup)));

    /// <summary>Encodes <paramref name="text"/> for use in element content and in quoted attribute values alike.</summary>
    public static string Encode(string text) => Encoder.Encode(text);

    public override string ToString() => Markup;

    // Everything HTML gives a meaning to is encoded (also both quotes); other characters stay readable.
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);
}

/// <summary>
/// Builds <see cref="Html"/> from an interpolated string. Only these value types are accepted, so a value
/// cannot slip in through a generic overload as its unencoded <c>ToString()</c>.
/// </summary>
[InterpolatedStringHandler]
public readonly struct HtmlBuilder(int literalLength, int formattedCount)
{
    private readonly StringBuilder text = new(literalLength + (formattedCount * 16));

    public void AppendLiteral(string literal) => text.Append(literal);

    public void AppendFormatted(Html? markup) => text.Append(markup?.Markup);

    public void AppendFormatted(IEnumerable<Html> markup)
    {
        foreach (var part in markup)
        {
            text.Append(part.Markup);
        }
    }

    public void AppendFormatted(string? value) => text.Append(Html.Encode(value ?? ""));

    public void AppendFormatted(long value) => text.Append(value.ToString(CultureInfo.InvariantCulture));

    internal string Build() => text.ToString();
}

using System.Globalization;
using System.Text.RegularExpressions;

namespace CiTrigger.Tests.Support;

/// <summary>Reading values out of a <c>/metrics</c> scrape.</summary>
public static partial class PrometheusText
{
    /// <summary>The sum of the samples of <paramref name="metric"/> whose labels include all of <paramref name="labels"/>; null if none.</summary>
    public static double? Sample(string scrape, string metric, params string[] labels) =>
        scrape.Split('\n')
            .Where(l => l.StartsWith(metric + "{", StringComparison.Ordinal) || l.StartsWith(metric + " ", StringComparison.Ordinal))
            .Where(l => labels.All(label => l.Contains(label, StringComparison.Ordinal)))
            .Select(l => double.Parse(SampleValue().Match(l).Groups[1].Value, CultureInfo.InvariantCulture))
            .Aggregate((double?)null, (sum, value) => (sum ?? 0) + value);

    [GeneratedRegex(@"\}?\s([0-9.eE+-]+|NaN)(\s\d+)?$")]
    private static partial Regex SampleValue();
}

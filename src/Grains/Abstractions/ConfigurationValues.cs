using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace CiTrigger.Grains.Abstractions;

/// <summary>
/// The raw values of an options class's keys, checked before they are bound. A value the binder cannot
/// convert (<c>Handler:MaxAttempts=abc</c>) becomes one line naming the key instead of an exception from
/// inside the host; a bare number for a time span, which .NET reads as days (<c>5</c> is five days), is
/// refused with a hint. It reads the options class itself, so no list of keys can fall behind it.
/// </summary>
public static class ConfigurationValues
{
    public static IEnumerable<string> Problems(IConfiguration configuration, string section, Type optionsType)
    {
        var values = configuration.GetSection(section);
        foreach (var property in optionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is not { IsPublic: true } || values[property.Name] is not { } raw)
            {
                continue;
            }

            var key = $"{section}:{property.Name}";
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (type == typeof(TimeSpan) && !raw.Contains(':', StringComparison.Ordinal))
            {
                yield return $"{key}: '{Shown(raw)}' is not a time span; write hours:minutes:seconds, e.g. 00:00:05 for five seconds, 00:05:00 for five minutes, 1.00:00:00 for a day";
                continue;
            }

            if (!Converts(values, property))
            {
                yield return $"{key}: '{Shown(raw)}' is not {Describe(type)}";
            }
        }
    }

    private static bool Converts(IConfiguration values, PropertyInfo property)
    {
        try
        {
            values.GetValue(property.PropertyType, property.Name);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static string Describe(Type type) => type switch
    {
        _ when type == typeof(int) || type == typeof(long) => "a whole number",
        _ when type == typeof(bool) => "true or false",
        _ when type == typeof(TimeSpan) => "a time span (hours:minutes:seconds, e.g. 00:00:05)",
        { IsEnum: true } => "one of " + string.Join(", ", Enum.GetNames(type)),
        _ => "a valid " + type.Name,
    };

    /// <summary>Enough of the value to recognize it, not a whole secret pasted into the wrong key.</summary>
    private static string Shown(string raw) => raw.Length <= 40 ? raw : raw[..37] + "...";
}

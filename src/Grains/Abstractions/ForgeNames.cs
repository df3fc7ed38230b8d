using System.Text.RegularExpressions;

namespace CiTrigger.Grains.Abstractions;

/// <summary>
/// The forge an event came from (<see cref="HookEvent.Forge"/>), named by its webhook adapter in the gateway.
/// GitHub is the first forge: its ref keys carry no forge name (<see cref="RefKey"/>), so state stored before
/// events named their forge, and the admin paths, stay as they were.
/// </summary>
public static partial class ForgeNames
{
    public const string GitHub = "github";

    /// <summary>A forge name: lower-case letters, digits and hyphens, at most 20, starting with a letter; never "/" or ":".</summary>
    public static bool IsForge(string value) => ForgePattern().IsMatch(value);

    [GeneratedRegex(@"^[a-z][a-z0-9-]{0,19}\z")]
    private static partial Regex ForgePattern();
}

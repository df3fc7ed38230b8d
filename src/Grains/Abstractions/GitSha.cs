namespace CiTrigger.Grains.Abstractions;

/// <summary>Object names as GitHub sends them: 40 hex digits (SHA-1) or 64 (SHA-256 repositories).</summary>
public static class GitSha
{
    public static bool IsValid(string value) =>
        value.Length is 40 or 64 && value.All(char.IsAsciiHexDigitLower);

    /// <summary>The all-zero name GitHub uses for "no commit" (a created or deleted ref).</summary>
    public static bool IsZero(string value) => value.Length > 0 && value.All(c => c == '0');
}

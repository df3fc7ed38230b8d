using System.Globalization;
using System.Security.Cryptography;

namespace CiTrigger.Grains.GitHub;

/// <summary>
/// App mode: <c>GitHub:AppId</c> with the App's private key, as PEM text (<c>GitHub:PrivateKey</c>) or in
/// a file (<c>GitHub:PrivateKeyPath</c>, e.g. a mounted Secret). Without an AppId the service runs in
/// token mode.
/// </summary>
public sealed class GitHubAppOptions
{
    public string? AppId { get; set; }

    public string? PrivateKey { get; set; }

    public string? PrivateKeyPath { get; set; }

    public bool IsApp => !string.IsNullOrWhiteSpace(AppId);

    public long Id => long.Parse(AppId!, NumberStyles.None, CultureInfo.InvariantCulture);

    public IEnumerable<string> Validate()
    {
        const string Section = GitHubOptions.Section;
        var hasKey = !string.IsNullOrWhiteSpace(PrivateKey);
        var hasPath = !string.IsNullOrWhiteSpace(PrivateKeyPath);
        if (!IsApp)
        {
            if (hasKey || hasPath)
            {
                yield return $"{Section}:AppId: required with {Section}:{(hasKey ? "PrivateKey" : "PrivateKeyPath")} (the App's id from its settings page)";
            }

            yield break;
        }

        if (!long.TryParse(AppId, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id <= 0)
        {
            yield return $"{Section}:AppId: '{AppId}' is not an App id (a positive number)";
        }

        if (hasKey == hasPath)
        {
            yield return hasKey
                ? $"{Section}:PrivateKeyPath: set {Section}:PrivateKey or {Section}:PrivateKeyPath, not both"
                : $"{Section}:PrivateKey: {Section}:AppId is set, but neither {Section}:PrivateKey nor {Section}:PrivateKeyPath is";
            yield break;
        }

        string? problem;
        try
        {
            using var key = LoadKey();
            problem = null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"{Section}:PrivateKeyPath: '{PrivateKeyPath}' cannot be read: {e.Message}";
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            problem = hasKey
                ? $"{Section}:PrivateKey: not a PEM RSA private key ({e.Message})"
                : $"{Section}:PrivateKeyPath: '{PrivateKeyPath}' does not hold a PEM RSA private key ({e.Message})";
        }

        if (problem is not null)
        {
            yield return problem;
        }
    }

    /// <summary>The App's private key; throws when it cannot be read or is no RSA private key.</summary>
    public RSA LoadKey()
    {
        var pem = PrivateKeyPath is { Length: > 0 } path ? File.ReadAllText(path) : PrivateKey!;

        // A key pasted into one line of an environment variable often keeps its line breaks as "\n".
        if (!pem.Contains('\n', StringComparison.Ordinal))
        {
            pem = pem.Replace("\\n", "\n", StringComparison.Ordinal);
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);

            // A public key imports as well; only a private one can sign.
            rsa.ExportParameters(includePrivateParameters: true);
            return rsa;
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }
}

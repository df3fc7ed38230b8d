using System.Security.Cryptography;

namespace CiTrigger.Gateway.Ui;

/// <summary>
/// The page's stylesheet and script, embedded in this assembly: nothing is fetched from elsewhere at run
/// time. Each is addressed with a hash of its content, so browsers may keep it for long.
/// </summary>
public sealed class UiAssets
{
    public const string Stylesheet = "site.css";
    public const string Script = "site.js";

    private readonly Dictionary<string, (byte[] Content, string Type, string Version)> assets = new(StringComparer.Ordinal)
    {
        [Stylesheet] = Load(Stylesheet, "text/css; charset=utf-8"),
        [Script] = Load(Script, "text/javascript; charset=utf-8"),
    };

    public string Version(string name) => assets[name].Version;

    public (byte[] Content, string Type)? Find(string name) =>
        assets.TryGetValue(name, out var asset) ? (asset.Content, asset.Type) : null;

    private static (byte[], string, string) Load(string name, string type)
    {
        using var stream = typeof(UiAssets).Assembly.GetManifestResourceStream("CiTrigger.Gateway.Ui.Assets." + name)
            ?? throw new InvalidOperationException($"the embedded asset {name} is missing from the build");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        var content = copy.ToArray();
        return (content, type, Convert.ToHexStringLower(SHA256.HashData(content))[..12]);
    }
}

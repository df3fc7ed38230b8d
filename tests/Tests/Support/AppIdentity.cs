using System.Security.Cryptography;
using CiTrigger.Tests.Fakes;

namespace CiTrigger.Tests.Support;

/// <summary>
/// A GitHub App made for one test: a fresh RSA key (never committed), registered with the fake GitHub by
/// its public half, and the settings that put the service in App mode with its private half.
/// </summary>
public sealed class AppIdentity : IDisposable
{
    private static long lastId = 300_000;

    private AppIdentity(FakeGitHubApi github)
    {
        Key = RSA.Create(2048);
        Id = Interlocked.Increment(ref lastId);
        App = github.RegisterApp(Id, Key);
    }

    public long Id { get; }

    public RSA Key { get; }

    public FakeGitHubApi.GitHubApp App { get; }

    public string PrivateKeyPem => Key.ExportRSAPrivateKeyPem();

    public static AppIdentity Register(FakeGitHubApi github) => new(github);

    /// <summary>App mode, without a personal token, so nothing can pass for the App by accident.</summary>
    public Dictionary<string, string> Settings(IDictionary<string, string>? more = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["GitHub:AppId"] = Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["GitHub:PrivateKey"] = PrivateKeyPem,
            ["GitHub:Token"] = "",
        };
        foreach (var (key, value) in more ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        return settings;
    }

    public void Dispose() => Key.Dispose();
}

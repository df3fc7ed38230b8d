using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CiTrigger.Grains.GitHub;

/// <summary>
/// The JSON Web Token an App authenticates with: RS256 over the App's key, <c>iss</c> = the App id,
/// <c>iat</c> a minute in the past and <c>exp</c> nine minutes ahead, so a clock a minute off either way
/// still meets GitHub's rules (iat not in the future, exp at most 10 minutes ahead). Signing and encoding
/// are Microsoft.IdentityModel's.
/// </summary>
public sealed class GitHubAppJwt
{
    public static readonly TimeSpan Backdate = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(9);

    // A token is reused until this close to its expiry; signing one per request would cost an RSA signature each.
    private static readonly TimeSpan Reuse = TimeSpan.FromMinutes(7);

    private readonly long appId;
    private readonly TimeProvider time;
    private readonly SigningCredentials credentials;
    private readonly JsonWebTokenHandler handler = new() { SetDefaultTimesOnTokenCreation = false };
    private Issued? current;

    public GitHubAppJwt(long appId, RSA key, TimeProvider time)
    {
        this.appId = appId;
        this.time = time;
        credentials = new SigningCredentials(new RsaSecurityKey(key), SecurityAlgorithms.RsaSha256);
    }

    public long AppId => appId;

    /// <summary>A token valid now and for at least the next two minutes.</summary>
    public string Current()
    {
        var now = time.GetUtcNow();
        if (current is { } issued && now >= issued.At && now - issued.At < Reuse)
        {
            return issued.Token;
        }

        var created = Create(now);
        current = new Issued(created, now);
        return created;
    }

    private sealed record Issued(string Token, DateTimeOffset At);

    private string Create(DateTimeOffset now) => handler.CreateToken(new SecurityTokenDescriptor
    {
        Claims = new Dictionary<string, object> { ["iss"] = appId },
        IssuedAt = (now - Backdate).UtcDateTime,
        Expires = (now + Lifetime).UtcDateTime,
        SigningCredentials = credentials,
    });
}

using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace CiTrigger.Tests.Fakes;

/// <summary>
/// GitHub Apps: an App authenticates with an RS256 JWT that the fake checks against the App's real public
/// key and GitHub's time rules, and exchanges it for installation tokens that expire by the fake's clock.
/// An installation token reaches only its installation's repositories, and only with its permissions.
/// </summary>
public sealed partial class FakeGitHubApi
{
    private static readonly TimeSpan MaxJwtLifetime = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan MaxJwtSpan = TimeSpan.FromMinutes(11);

    private readonly ConcurrentDictionary<long, GitHubApp> apps = new();
    private readonly ConcurrentDictionary<long, Installation> installations = new();
    private readonly ConcurrentDictionary<string, IssuedToken> tokens = new(StringComparer.Ordinal);

    /// <summary>How long an installation token lives (GitHub: one hour).</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The installation-token requests answered so far, in order.</summary>
    public IReadOnlyList<RecordedGitHubRequest> TokenRequests =>
        [.. requests.Where(r => r.Method == "POST" && r.Path.EndsWith("/access_tokens", StringComparison.Ordinal))];

    /// <summary>Registers an App by id with the public half of its key.</summary>
    public GitHubApp RegisterApp(long id, RSA key)
    {
        var publicKey = RSA.Create();
        publicKey.ImportParameters(key.ExportParameters(includePrivateParameters: false));
        return apps.GetOrAdd(id, _ => new GitHubApp(id, publicKey));
    }

    /// <summary>Installs <paramref name="app"/> on the repositories, which are added if they do not exist yet.</summary>
    public Installation Install(GitHubApp app, long installationId, params string[] repositoryNames)
    {
        var installation = installations.GetOrAdd(installationId, id => new Installation(id, app.Id));
        foreach (var name in repositoryNames)
        {
            installation.Repositories[Repo(name).FullName] = 0;
        }

        return installation;
    }

    /// <summary>Makes every installation token issued so far expired, as an hour passing would.</summary>
    public void ExpireTokens()
    {
        var now = Time.GetUtcNow();
        foreach (var token in tokens.Values)
        {
            token.ExpiresAt = now;
        }
    }

    private Caller? Authenticate(string authorization, out Reply? refusal)
    {
        refusal = null;
        if (authorization.Length == 0)
        {
            return new AnonymousCaller();
        }

        // Authorization schemes are case-insensitive (RFC 7235); GitHub takes "token" and "bearer".
        var credential = authorization.Split(' ', 2);
        if (credential.Length != 2
            || !(credential[0].Equals("token", StringComparison.OrdinalIgnoreCase) || credential[0].Equals("bearer", StringComparison.OrdinalIgnoreCase)))
        {
            refusal = Error(401, "Bad credentials");
            return null;
        }

        var secret = credential[1];
        if (secret == Token)
        {
            return new PatCaller();
        }

        if (secret.Count(c => c == '.') == 2)
        {
            var app = VerifyJwt(secret, out var problem);
            refusal = app is null ? Error(401, problem!) : null;
            return app is null ? null : new AppCaller(app);
        }

        if (tokens.TryGetValue(secret, out var issued) && issued.ExpiresAt > Time.GetUtcNow())
        {
            return new InstallationCaller(installations[issued.Installation]);
        }

        refusal = Error(401, "Bad credentials");
        return null;
    }

    private GitHubApp? VerifyJwt(string jwt, out string? problem)
    {
        const string Undecodable = "A JSON web token could not be decoded";
        problem = Undecodable;
        var parts = jwt.Split('.');
        JsonObject? header, claims;
        byte[] signature;
        try
        {
            header = JsonNode.Parse(Base64Url.DecodeFromChars(parts[0])) as JsonObject;
            claims = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1])) as JsonObject;
            signature = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }

        if (header?["alg"]?.GetValueKind() != JsonValueKind.String || header["alg"]!.GetValue<string>() != "RS256" || claims is null)
        {
            return null;
        }

        var issuer = claims["iss"] switch
        {
            JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var n) => n,
            JsonValue v when v.GetValueKind() == JsonValueKind.String && long.TryParse(v.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) => n,
            _ => (long?)null,
        };
        if (issuer is null || !apps.TryGetValue(issuer.Value, out var app))
        {
            problem = "'Issuer' claim ('iss') must be the id of a registered GitHub App";
            return null;
        }

        var signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
        if (!app.PublicKey.VerifyData(signed, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
        {
            return null;
        }

        var now = Time.GetUtcNow();
        if (NumericDate(claims["iat"]) is not { } issuedAt || issuedAt > now)
        {
            problem = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
            return null;
        }

        if (NumericDate(claims["exp"]) is not { } expires || expires <= now)
        {
            problem = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
            return null;
        }

        if (expires > now + MaxJwtLifetime || expires - issuedAt > MaxJwtSpan)
        {
            problem = "'Expiration time' claim ('exp') is too far in the future";
            return null;
        }

        problem = null;
        return app;
    }

    private static DateTimeOffset? NumericDate(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;

    /// <summary>Null when the caller may do this; else GitHub's refusal.</summary>
    private static Reply? Permitted(Caller caller, string permission, bool write) => caller switch
    {
        AnonymousCaller when write => Error(401, "Requires authentication"),
        InstallationCaller i when !i.Installation.Permissions.TryGetValue(permission, out var level)
            || (write && level != "write") => Error(403, "Resource not accessible by integration"),
        _ => null,
    };

    private Reply RouteApp(GitHubApp app, RecordedGitHubRequest r, HttpRequest request, string path)
    {
        var parts = path.Split('/');
        if (r.Method == "POST" && parts is ["installations", var id, "access_tokens"])
        {
            return long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var installationId)
                && installations.TryGetValue(installationId, out var installation) && installation.AppId == app.Id
                ? IssueToken(installation, r.Body)
                : Error(404, "Not Found");
        }

        if (parts is ["hook", "deliveries", ..])
        {
            return RouteDeliveries(r, request, app.Deliveries, "app/hook/deliveries", string.Join('/', parts[2..]));
        }

        return Error(404, "Not Found");
    }

    private Reply IssueToken(Installation installation, string body)
    {
        if (body.Length > 0 && ParseObject(body) is null)
        {
            return Error(400, "Problems parsing JSON");
        }

        var token = new IssuedToken("ghs_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(18)), installation.Id, Time.GetUtcNow() + TokenLifetime);
        tokens[token.Token] = token;
        return Json(201, new JsonObject
        {
            ["token"] = token.Token,
            ["expires_at"] = token.ExpiresAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["permissions"] = installation.PermissionsJson(),
            ["repository_selection"] = "selected",
        });
    }

    private Reply RepositoryInstallation(GitHubApp app, Repository repo)
    {
        var installation = installations.Values.FirstOrDefault(i => i.AppId == app.Id && i.Covers(repo.FullName));
        return installation is null
            ? Error(404, "Not Found")
            : Json(200, new JsonObject
            {
                ["id"] = installation.Id,
                ["app_id"] = app.Id,
                ["account"] = new JsonObject { ["login"] = repo.FullName.Split('/')[0] },
                ["target_type"] = "Organization",
                ["permissions"] = installation.PermissionsJson(),
                ["repository_selection"] = "selected",
            });
    }

    private abstract record Caller;

    private sealed record AnonymousCaller : Caller;

    private sealed record PatCaller : Caller;

    private sealed record InstallationCaller(Installation Installation) : Caller;

    private sealed record AppCaller(GitHubApp App) : Caller;

    private sealed class IssuedToken(string token, long installation, DateTimeOffset expiresAt)
    {
        public string Token { get; } = token;

        public long Installation { get; } = installation;

        public DateTimeOffset ExpiresAt { get; set; } = expiresAt;
    }

    /// <summary>A registered App: its id, the public half of its key, and the deliveries of its own webhook.</summary>
    public sealed class GitHubApp
    {
        public GitHubApp(long id, RSA publicKey)
        {
            Id = id;
            PublicKey = publicKey;
            Deliveries = new DeliveryLog(() => Webhook);
        }

        public long Id { get; }

        public RSA PublicKey { get; }

        /// <summary>Where the App's webhook deliveries (and redeliveries) go: its URL and secret.</summary>
        public (Uri Url, string? Secret)? Webhook { get; set; }

        /// <summary>What GitHub sent to the App's webhook (<c>/app/hook/deliveries</c>).</summary>
        public DeliveryLog Deliveries { get; }
    }

    /// <summary>An App installed on some repositories, with the permissions the App was granted.</summary>
    public sealed class Installation(long id, long appId)
    {
        public long Id { get; } = id;

        public long AppId { get; } = appId;

        public ConcurrentDictionary<string, byte> Repositories { get; } = new(StringComparer.OrdinalIgnoreCase);

        /// <summary>Permission name to <c>read</c> or <c>write</c>; the App's manifest as docs/github-app.md asks for it.</summary>
        public ConcurrentDictionary<string, string> Permissions { get; } = new(StringComparer.Ordinal)
        {
            ["metadata"] = "read",
            ["contents"] = "read",
            ["checks"] = "write",
            ["statuses"] = "write",
        };

        public bool Covers(string repository) => Repositories.ContainsKey(repository);

        internal JsonObject PermissionsJson() => new(Permissions.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value)));
    }
}

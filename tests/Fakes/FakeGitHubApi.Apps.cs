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
/// An installation token reaches only its installation's repositories, and only with its permissions. A token
/// request may narrow both (<c>repositories</c>, <c>permissions</c>), validated as GitHub validates them (a
/// repository of another installation, a permission the installation lacks, an unknown key: 422); such a token
/// reaches only those repositories (any other answers 404) with only those permissions (and <c>metadata: read</c>,
/// which GitHub adds to every token; anything else answers 403).
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

    /// <summary>The <see cref="TokenRequests"/> for a token of everything the installation may do (no <c>repositories</c> or <c>permissions</c> asked).</summary>
    public IReadOnlyList<RecordedGitHubRequest> UnrestrictedTokenRequests => [.. TokenRequests.Where(r => !IsRestricted(r))];

    /// <summary>The <see cref="TokenRequests"/> that narrowed the token to some repositories or permissions.</summary>
    public IReadOnlyList<RecordedGitHubRequest> RestrictedTokenRequests => [.. TokenRequests.Where(IsRestricted)];

    private static bool IsRestricted(RecordedGitHubRequest r) =>
        r.Body.Length > 0 && ParseObject(r.Body) is { } body && (body.ContainsKey("repositories") || body.ContainsKey("repository_ids") || body.ContainsKey("permissions"));

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
            return new InstallationCaller(installations[issued.Installation], issued);
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
        InstallationCaller i when !i.Permissions.TryGetValue(permission, out var level)
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

    /// <summary>The permission names GitHub knows for a repository's installation token, and the levels it takes.</summary>
    private static readonly HashSet<string> PermissionNames = new(StringComparer.Ordinal)
    {
        "actions", "administration", "checks", "contents", "deployments", "environments", "issues", "metadata", "packages",
        "pages", "pull_requests", "repository_hooks", "repository_projects", "secret_scanning_alerts", "secrets",
        "security_events", "single_file", "statuses", "vulnerability_alerts", "workflows", "members", "organization_administration",
    };

    private Reply IssueToken(Installation installation, string body)
    {
        var request = body.Length == 0 ? [] : ParseObject(body);
        if (request is null)
        {
            return Error(400, "Problems parsing JSON");
        }

        if (Restriction(installation, request, out var repositories, out var permissions) is { } refused)
        {
            return refused;
        }

        var token = new IssuedToken("ghs_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(18)), installation.Id, Time.GetUtcNow() + TokenLifetime)
        {
            Repositories = repositories,
            Permissions = permissions,
        };
        tokens[token.Token] = token;
        var answer = new JsonObject
        {
            ["token"] = token.Token,
            ["expires_at"] = token.ExpiresAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["permissions"] = new JsonObject((permissions ?? (IReadOnlyDictionary<string, string>)installation.Permissions).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
            ["repository_selection"] = "selected",
        };
        if (repositories is not null)
        {
            answer["repositories"] = new JsonArray([.. repositories.Order(StringComparer.Ordinal).Select(name => (JsonNode?)new JsonObject
            {
                ["id"] = Repo(name).Id,
                ["name"] = name.Split('/')[1],
                ["full_name"] = name,
            })]);
        }

        return Json(201, answer);
    }

    /// <summary>
    /// What a token request narrows, as GitHub validates it: only <c>repositories</c> (names of the installation's
    /// repositories, without owner), <c>repository_ids</c> and <c>permissions</c> (known names, <c>read</c> or
    /// <c>write</c>, never more than the installation was granted); null sets mean "as the installation".
    /// </summary>
    private Reply? Restriction(Installation installation, JsonObject request, out HashSet<string>? repositories, out Dictionary<string, string>? permissions)
    {
        repositories = null;
        permissions = null;
        foreach (var key in request.Select(p => p.Key))
        {
            if (key is not ("repositories" or "repository_ids" or "permissions"))
            {
                return Error(422, $"Invalid request.\n\n\"{key}\" is not a permitted key.");
            }
        }

        var names = request["repositories"];
        if (names is not null || request["repository_ids"] is not null)
        {
            repositories = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            if (names is not null && (names is not JsonArray list || list.Any(n => n is not JsonValue v || v.GetValueKind() != JsonValueKind.String)))
            {
                return Error(422, "Invalid request.\n\nFor 'properties/repositories', it is not an array of strings.");
            }

            foreach (var name in (names as JsonArray ?? []).Select(n => n!.GetValue<string>()))
            {
                var match = installation.Repositories.Keys.FirstOrDefault(r => string.Equals(r.Split('/')[1], name, StringComparison.OrdinalIgnoreCase));
                if (match is null)
                {
                    return Error(422, "There is at least one repository that does not exist or is not accessible to the parent installation.");
                }

                repositories.Add(match);
            }

            foreach (var id in request["repository_ids"] as JsonArray ?? [])
            {
                var match = installation.Repositories.Keys.FirstOrDefault(r => id is JsonValue v && v.TryGetValue<long>(out var n) && Repo(r).Id == n);
                if (match is null)
                {
                    return Error(422, "There is at least one repository that does not exist or is not accessible to the parent installation.");
                }

                repositories.Add(match);
            }
        }

        if (request["permissions"] is { } asked)
        {
            if (asked is not JsonObject wanted)
            {
                return Error(422, "Invalid request.\n\nFor 'properties/permissions', it is not an object.");
            }

            permissions = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, value) in wanted)
            {
                if (!PermissionNames.Contains(name))
                {
                    return Error(422, $"Invalid request.\n\n\"{name}\" is not a permitted key.");
                }

                var level = value is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
                if (level is not ("read" or "write"))
                {
                    return Error(422, $"Invalid request.\n\nFor 'properties/{name}', {value?.ToJsonString() ?? "null"} is not one of [\"read\", \"write\"].");
                }

                if (!installation.Permissions.TryGetValue(name, out var granted) || (level == "write" && granted != "write"))
                {
                    return Error(422, "The permissions requested are not granted to this installation.");
                }

                permissions[name] = level;
            }

            // Every installation token may read the repositories' metadata, whatever was asked.
            permissions.TryAdd("metadata", "read");
        }

        return null;
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

    /// <summary>An installation's token: its repositories and permissions are the installation's, or fewer when the token was narrowed.</summary>
    private sealed record InstallationCaller(Installation Installation, IssuedToken Token) : Caller
    {
        public IReadOnlyDictionary<string, string> Permissions => Token.Permissions ?? (IReadOnlyDictionary<string, string>)Installation.Permissions;

        public bool Covers(string repository) => Installation.Covers(repository) && (Token.Repositories is null || Token.Repositories.Contains(repository));
    }

    private sealed record AppCaller(GitHubApp App) : Caller;

    private sealed class IssuedToken(string token, long installation, DateTimeOffset expiresAt)
    {
        public string Token { get; } = token;

        public long Installation { get; } = installation;

        public DateTimeOffset ExpiresAt { get; set; } = expiresAt;

        /// <summary>The only repositories it reaches (full names); null: all of its installation's.</summary>
        public IReadOnlySet<string>? Repositories { get; init; }

        /// <summary>Its only permissions; null: its installation's.</summary>
        public IReadOnlyDictionary<string, string>? Permissions { get; init; }
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

using System.Text.Json.Nodes;

namespace CiTrigger.Tests.Fakes;

/// <summary>
/// A user's permission in a repository as GitHub serves it: <c>GET /repos/{owner}/{repo}/collaborators/{username}/permission</c>
/// answers the legacy permission (<c>admin</c>, <c>write</c>, <c>read</c>; the maintain role shows as <c>write</c>, triage
/// as <c>read</c>) with the role itself in <c>role_name</c>, and 404 for a user who is no collaborator. An installation
/// token needs the <c>metadata</c> permission; an anonymous caller is refused; only JSON is served (415 for an Accept
/// header without a JSON media type).
/// </summary>
public sealed partial class FakeGitHubApi
{
    private static readonly HashSet<string> JsonMediaTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "application/vnd.github+json", "application/vnd.github.v3+json", "application/json", "*/*",
    };

    /// <summary>The permission requests answered so far, in order.</summary>
    public IReadOnlyList<RecordedGitHubRequest> PermissionRequests =>
        [.. requests.Where(r => r.Path.Contains("/collaborators/", StringComparison.Ordinal))];

    private static Reply RouteCollaborators(Caller caller, RecordedGitHubRequest r, Repository repo, string rest)
    {
        if (r.Method != "GET" || rest.Split('/') is not [var user, "permission"] || user.Length == 0)
        {
            return Error(404, "Not Found");
        }

        if (caller is AnonymousCaller)
        {
            return Error(401, "Requires authentication");
        }

        if (Permitted(caller, "metadata", write: false) is { } refusal)
        {
            return refusal;
        }

        // Without an Accept header GitHub answers its JSON; a client that asks for something else gets nothing else.
        if (r.Accept.Length > 0 && !r.Accept.Split(',').Select(a => a.Split(';')[0].Trim()).Any(JsonMediaTypes.Contains))
        {
            return Error(415, $"Unsupported 'Accept' header: '{r.Accept}'. Must accept 'application/json'.");
        }

        var asked = Uri.UnescapeDataString(user);
        if (!repo.Collaborators.TryGetValue(asked, out var role))
        {
            return Error(404, "Not Found");
        }

        // Logins are matched in any case and answered as the user spells theirs.
        var login = repo.Collaborators.Keys.First(k => string.Equals(k, asked, StringComparison.OrdinalIgnoreCase));

        return Json(200, new JsonObject
        {
            ["permission"] = role switch { "maintain" => "write", "triage" => "read", _ => role },
            ["role_name"] = role,
            ["user"] = new JsonObject
            {
                ["login"] = login,
                ["id"] = Math.Abs(StringComparer.OrdinalIgnoreCase.GetHashCode(login)),
                ["type"] = login.EndsWith("[bot]", StringComparison.Ordinal) ? "Bot" : "User",
                ["site_admin"] = false,
                ["role_name"] = role,
            },
        });
    }
}

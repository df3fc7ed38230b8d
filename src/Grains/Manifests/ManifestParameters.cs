using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Manifests;

/// <summary>
/// <c>{{ name }}</c> parameters in a manifest's parsed string scalars, replaced by the event's values. Only the
/// design's fixed bare names are replaced; anything else in double braces (Argo's <c>{{workflow.name}}</c>,
/// <c>{{inputs.parameters.x}}</c>, <c>{{item}}</c>) is left as it is. Replacement works on values the YAML
/// parser already read, never on the file's text, and never on mapping keys, so no value (a branch named
/// <c>x"\n  evil: true</c>) can change the manifest's structure; a replaced value is not looked at again.
/// </summary>
public static partial class ManifestParameters
{
    /// <summary>
    /// The fixed names, replaced for every event; a Repository's <c>spec.params</c> add names of their own, never these.
    /// <c>git_auth_secret</c> names the event's per-run credential Secret when it has one (App mode with
    /// <c>Handler:RunCredentials</c>, a cluster); without one it is left as it is.
    /// </summary>
    public static readonly IReadOnlyList<string> Names =
    [
        "revision", "ref", "branch", "tag", "repo_name", "repo_url", "repo_ssh", "event_type", "event_action",
        "delivery", "pipeline", "pull_request", "base_ref", "head_repo_url", "git_auth_secret",
    ];

    /// <summary>Whether a manifest's bytes may hold a parameter at all: most do not, and they cost no walk.</summary>
    public static bool MayMention(ReadOnlySpan<byte> manifest) => manifest.IndexOf("{{"u8) >= 0;

    /// <summary>
    /// The values of <see cref="Names"/> for an event: <c>branch</c> is the branch a push names (a pull request's
    /// base branch), <c>tag</c> the tag a push names, each empty otherwise; <c>pipeline</c> the manifest file's
    /// name without its extension; <c>git_auth_secret</c> <paramref name="gitAuthSecret"/>, and none when that is null.
    /// </summary>
    /// <param name="e">The event.</param>
    /// <param name="manifestPath">The manifest file's path in the repository.</param>
    /// <param name="extra">A Repository's <c>spec.params</c>: added under their own names, never in place of a fixed one.</param>
    /// <param name="gitAuthSecret">The name of the event's per-run credential Secret, if it has one.</param>
    public static IReadOnlyDictionary<string, string> For(HookEvent e, string manifestPath, IReadOnlyDictionary<string, string>? extra = null, string? gitAuthSecret = null)
    {
        const string heads = "refs/heads/", tags = "refs/tags/";
        var branch = e.Ref.StartsWith(heads, StringComparison.Ordinal) ? e.Ref[heads.Length..]
            : e.PullRequest > 0 && e.BaseRef.StartsWith(heads, StringComparison.Ordinal) ? e.BaseRef[heads.Length..]
            : "";
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["revision"] = e.Revision,
            ["ref"] = e.Ref,
            ["branch"] = branch,
            ["tag"] = e.Ref.StartsWith(tags, StringComparison.Ordinal) ? e.Ref[tags.Length..] : "",
            ["repo_name"] = e.Repository,
            ["repo_url"] = e.RepoUrl,
            ["repo_ssh"] = e.RepoSsh,
            ["event_type"] = e.EventType,
            ["event_action"] = e.Action,
            ["delivery"] = e.Delivery,
            ["pipeline"] = Path.GetFileNameWithoutExtension(manifestPath),
            ["pull_request"] = e.PullRequest > 0 ? e.PullRequest.ToString(CultureInfo.InvariantCulture) : "",
            ["base_ref"] = e.BaseRef,
            ["head_repo_url"] = e.HeadRepoUrl,
        };
        if (gitAuthSecret is not null)
        {
            values["git_auth_secret"] = gitAuthSecret;
        }

        foreach (var (name, value) in extra ?? ImmutableDictionary<string, string>.Empty)
        {
            values.TryAdd(name, value);
        }

        return values;
    }

    /// <summary>Replaces the parameters in every string scalar of <paramref name="node"/> (changed in place).</summary>
    public static void Substitute(JsonNode? node, IReadOnlyDictionary<string, string> values)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj.ToList())
                {
                    if (Replaced(child, values) is { } text)
                    {
                        obj[key] = text;
                    }
                    else
                    {
                        Substitute(child, values);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (Replaced(array[i], values) is { } text)
                    {
                        array[i] = text;
                    }
                    else
                    {
                        Substitute(array[i], values);
                    }
                }

                break;
        }
    }

    /// <summary>The scalar with its parameters replaced, or null when it is no string or holds none.</summary>
    private static string? Replaced(JsonNode? node, IReadOnlyDictionary<string, string> values)
    {
        if (node is not JsonValue value || !value.TryGetValue<string>(out var text) || !text.Contains("{{", StringComparison.Ordinal))
        {
            return null;
        }

        var any = false;
        var result = Parameter().Replace(text, m =>
        {
            if (values.TryGetValue(m.Groups[1].Value, out var replacement))
            {
                any = true;
                return replacement;
            }

            return m.Value;
        });
        return any ? result : null;
    }

    [GeneratedRegex(@"\{\{\s*([a-z][a-z0-9_]*)\s*\}\}", RegexOptions.CultureInvariant)]
    private static partial Regex Parameter();
}

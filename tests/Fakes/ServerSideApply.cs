using System.Text.Json.Nodes;

namespace CiTrigger.Tests.Fakes;

/// <summary>
/// Field ownership as kube-apiserver's server-side apply keeps it, reduced to what the fake needs: every
/// leaf field of an applied object belongs to the managers that set it; an apply that changes a field
/// another manager owns is a conflict unless forced (then ownership moves); an apply that drops a field
/// its manager alone owned removes it; an apply that changes nothing leaves the object as it was.
/// Lists are atomic leaves, as they are for the untyped parts of a CRD.
/// </summary>
public sealed class ServerSideApply
{
    private readonly Dictionary<string, HashSet<string>> owners = new(StringComparer.Ordinal);

    /// <summary>Records the fields a create by <paramref name="manager"/> set.</summary>
    public void Created(string manager, JsonObject obj) => owners[manager] = [.. Leaves(obj).Select(l => l.Path)];

    /// <summary>The conflicts an apply would meet, as (manager, field path) pairs; empty when it may go ahead.</summary>
    public IReadOnlyList<(string Manager, string Path)> Conflicts(string manager, JsonObject live, JsonObject applied) =>
        [.. Leaves(applied)
            .Where(leaf => !JsonNode.DeepEquals(Get(live, leaf.Path), leaf.Value))
            .SelectMany(leaf => owners.Where(o => o.Key != manager && o.Value.Contains(leaf.Path)).Select(o => (o.Key, leaf.Path)))
            .OrderBy(c => c.Key, StringComparer.Ordinal)];

    /// <summary>Applies <paramref name="applied"/> to <paramref name="live"/> in place, taking conflicting fields over.</summary>
    public void Apply(string manager, JsonObject live, JsonObject applied)
    {
        var leaves = Leaves(applied).ToList();
        var paths = leaves.Select(l => l.Path).ToHashSet(StringComparer.Ordinal);
        foreach (var (other, path) in Conflicts(manager, live, applied))
        {
            owners[other].Remove(path);
        }

        var previous = owners.TryGetValue(manager, out var owned) ? owned : [];
        foreach (var dropped in previous.Except(paths).Where(p => !owners.Any(o => o.Key != manager && o.Value.Contains(p))))
        {
            Remove(live, dropped);
        }

        foreach (var (path, value) in leaves)
        {
            Set(live, path, value?.DeepClone());
        }

        owners[manager] = paths;
    }

    /// <summary>The Status message kube-apiserver gives a conflicting apply.</summary>
    public static string ConflictMessage(IReadOnlyList<(string Manager, string Path)> conflicts)
    {
        var parts = conflicts.GroupBy(c => c.Manager).Select(g => g.Count() == 1
            ? $"conflict with \"{g.Key}\": {Display(g.Single().Path)}"
            : $"conflicts with \"{g.Key}\":\n" + string.Join("\n", g.Select(c => "- " + Display(c.Path))));
        return $"Apply failed with {conflicts.Count} conflict{(conflicts.Count == 1 ? "" : "s")}: {string.Join("\n", parts)}";
    }

    public static string Display(string path) => "." + path.Replace('\n', '.');

    /// <summary>The fields an object sets, by path (segments joined by newlines), leaving out its identity.</summary>
    private static IEnumerable<(string Path, JsonNode? Value)> Leaves(JsonObject obj, string prefix = "")
    {
        foreach (var (name, value) in obj)
        {
            var path = prefix.Length == 0 ? name : prefix + "\n" + name;
            if (path is "apiVersion" or "kind" or "status" or "metadata\nname" or "metadata\nnamespace" or "metadata\ngenerateName"
                || path.StartsWith("metadata\nmanagedFields", StringComparison.Ordinal))
            {
                continue;
            }

            if (value is JsonObject child && child.Count > 0)
            {
                foreach (var leaf in Leaves(child, path))
                {
                    yield return leaf;
                }
            }
            else
            {
                yield return (path, value);
            }
        }
    }

    private static JsonNode? Get(JsonObject obj, string path)
    {
        JsonNode? node = obj;
        foreach (var segment in path.Split('\n'))
        {
            node = node is JsonObject o ? o[segment] : null;
        }

        return node;
    }

    private static void Set(JsonObject obj, string path, JsonNode? value)
    {
        var segments = path.Split('\n');
        var parent = obj;
        foreach (var segment in segments[..^1])
        {
            if (parent[segment] is not JsonObject next)
            {
                next = [];
                parent[segment] = next;
            }

            parent = next;
        }

        parent[segments[^1]] = value;
    }

    private static void Remove(JsonObject obj, string path)
    {
        var segments = path.Split('\n');
        var parent = obj;
        foreach (var segment in segments[..^1])
        {
            if (parent[segment] is not JsonObject next)
            {
                return;
            }

            parent = next;
        }

        parent.Remove(segments[^1]);
    }
}

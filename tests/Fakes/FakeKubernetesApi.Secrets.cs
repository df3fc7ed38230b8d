using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CiTrigger.Tests.Fakes;

/// <summary>
/// The API server's validation of what this service writes beyond manifests (checked against kube-apiserver by
/// tests/Tests/RealCluster/FakeAgreesWithRealServerTests): a Secret's <c>stringData</c> merged into <c>data</c> and never
/// stored, <c>data</c> as base64 under valid keys, type <c>Opaque</c> unless given and never changed, a
/// <c>kubernetes.io/basic-auth</c> Secret with <c>username</c> or <c>password</c>, and every ownerReference with its
/// apiVersion, kind, name and uid.
/// </summary>
public sealed partial class FakeKubernetesApi
{
    private static (int, JsonNode)? ValidateOwnerReferences(Resource resource, string name, JsonObject obj)
    {
        if (obj["metadata"]?["ownerReferences"] is not { } references)
        {
            return null;
        }

        if (references is not JsonArray list || list.Any(r => r is not JsonObject))
        {
            return Failure(400, "BadRequest", "json: cannot unmarshal into Go struct field ObjectMeta.metadata.ownerReferences of type []v1.OwnerReference");
        }

        var causes = new List<(string Reason, string Message, string Field)>();
        foreach (var reference in list.Cast<JsonObject>())
        {
            foreach (var (field, words) in new[] { ("apiVersion", "version"), ("kind", "kind"), ("name", "name"), ("uid", "uid") })
            {
                var value = reference[field];
                if (value is not null && (value is not JsonValue v || v.GetValueKind() != JsonValueKind.String))
                {
                    return Failure(400, "BadRequest", $"json: cannot unmarshal into Go struct field OwnerReference.metadata.ownerReferences.{field} of type string");
                }

                if (value is null || value.GetValue<string>().Length == 0)
                {
                    causes.Add(("FieldValueInvalid", $"Invalid value: \"\": {words} must not be empty", $"metadata.ownerReferences.{field}"));
                }
            }
        }

        return causes.Count == 0 ? null : Invalid(resource, name, causes);
    }

    private static (int, JsonNode)? ValidateSecret(Resource resource, string name, JsonObject secret)
    {
        if (secret["type"] is { } typeNode && (typeNode is not JsonValue t || t.GetValueKind() != JsonValueKind.String))
        {
            return Failure(400, "BadRequest", "json: cannot unmarshal into Go struct field Secret.type of type v1.SecretType");
        }

        if (secret["type"] is null || secret["type"]!.GetValue<string>().Length == 0)
        {
            secret["type"] = "Opaque";
        }

        var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var field in new[] { "data", "stringData" })
        {
            if (secret[field] is null)
            {
                continue;
            }

            if (secret[field] is not JsonObject map || map.Any(kv => kv.Value is not JsonValue v || v.GetValueKind() != JsonValueKind.String))
            {
                return Failure(400, "BadRequest", $"json: cannot unmarshal into Go struct field Secret.{field} of type {(field == "data" ? "[]uint8" : "string")}");
            }

            foreach (var (key, value) in map)
            {
                var text = value!.GetValue<string>();
                if (field == "stringData")
                {
                    data[key] = Encoding.UTF8.GetBytes(text);
                    continue;
                }

                try
                {
                    data[key] = Convert.FromBase64String(text);
                }
                catch (FormatException)
                {
                    return Failure(400, "BadRequest", $"illegal base64 data in Secret.data[{key}]");
                }
            }
        }

        // As the API server stores it: stringData written over data, kept only in data.
        secret.Remove("stringData");
        if (data.Count > 0)
        {
            // Go writes a map's keys sorted.
            secret["data"] = new JsonObject(data.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => KeyValuePair.Create(d.Key, (JsonNode?)Convert.ToBase64String(d.Value))));
        }

        var causes = new List<(string Reason, string Message, string Field)>();
        foreach (var key in data.Keys.Where(k => k.Length > 253 || !ConfigKey().IsMatch(k)))
        {
            causes.Add(("FieldValueInvalid", $"Invalid value: \"{key}\": a valid config key must consist of alphanumeric characters, '-', '_' or '.'", $"data[{key}]"));
        }

        if (secret["type"]!.GetValue<string>() == "kubernetes.io/basic-auth" && !data.ContainsKey("username") && !data.ContainsKey("password"))
        {
            // Word for word: kube-apiserver builds this path from field.NewPath("data[%s]"), a format string never formatted.
            causes.Add(("FieldValueRequired", "Required value", "data[%s][username]"));
            causes.Add(("FieldValueRequired", "Required value", "data[%s][password]"));
        }

        return causes.Count == 0 ? null : Invalid(resource, name, causes);
    }

    /// <summary>What the API server refuses to change in an object that exists: a Secret's type.</summary>
    private static (int, JsonNode)? ValidateUpdate(Resource resource, string name, JsonObject live, JsonObject updated)
    {
        if (resource.Kind == "Secret" && resource.Group.Length == 0 && updated["type"]?.ToString() != live["type"]?.ToString())
        {
            return Invalid(resource, name, [("FieldValueInvalid", $"Invalid value: \"{updated["type"]}\": field is immutable", "type")]);
        }

        return null;
    }

    /// <summary>A 422 as kube-apiserver words it: <c>Kind "name" is invalid: [field: message, …]</c> with one cause each.</summary>
    private static (int, JsonNode) Invalid(Resource resource, string name, IReadOnlyList<(string Reason, string Message, string Field)> causes)
    {
        var list = causes.Select(c => $"{c.Field}: {c.Message}").ToList();
        var message = $"{resource.Qualified(resource.Kind)} \"{name}\" is invalid: {(list.Count == 1 ? list[0] : $"[{string.Join(", ", list)}]")}";
        return Failure(422, "Invalid", message, Details(name, resource.Group, resource.Kind, [.. causes]));
    }

    [GeneratedRegex("^[-._a-zA-Z0-9]+$")]
    private static partial Regex ConfigKey();
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace CiTrigger.Tests.Fakes;

/// <summary>
/// <c>GET /api/v1/namespaces/{ns}/pods/{name}/log</c> as kube-apiserver v1.20 serves it (checked by the agreement
/// table in tests/Tests/RealCluster), in its order of checks: a <c>tailLines</c> or <c>limitBytes</c> that is no
/// integer is a 400 with Go's <c>strconv.ParseInt</c> message; a negative <c>tailLines</c> or a <c>limitBytes</c>
/// below 1 is a 422 <c>PodLogOptions</c> Invalid (before the pod is looked up); a missing pod is a 404; a
/// <c>container</c> the pod does not have (init containers count) is a 400, and so is none named in a pod of
/// several containers; a pod no node runs (no <c>spec.nodeName</c>) answers 204 with no body. A pod a test put
/// on a node with <see cref="SetPodLog"/> answers 200 <c>text/plain</c> with the text given, the last
/// <c>tailLines</c> lines of it cut to their first <c>limitBytes</c> bytes, as the kubelet cuts them; that
/// answer is the fake's own, since the agreement table's API server has no kubelet (the tests in
/// tests/Tests/RealNode read real logs). Other parameters (follow, previous, timestamps, since…) are ignored.
/// Another method than GET on a pod's log is a 405; any other subresource is a 404 Status, as the real server
/// answers one it does not serve.
/// </summary>
public sealed partial class FakeKubernetesApi
{
    /// <summary>The node <see cref="SetPodLog"/> puts a pod on.</summary>
    public const string NodeName = "fake-node";

    private const string TextItem = "fake-kubernetes-text";

    private static readonly string[] ContainerFields = ["initContainers", "containers", "ephemeralContainers"];

    /// <summary>The log of each container a test gave one, by the pod's uid (a pod made again under its name has none) and container.</summary>
    private readonly ConcurrentDictionary<(string Uid, string Container), byte[]> podLogs = new();

    /// <summary>
    /// Puts the pod on <see cref="NodeName"/> when it is on none, as the scheduler would (a MODIFIED change),
    /// and makes <paramref name="text"/> the log of its <paramref name="container"/>. A container of a pod on a
    /// node that was given no log has an empty one.
    /// </summary>
    public void SetPodLog(string ns, string pod, string container, string text)
    {
        var resource = resources.First(r => r.ApiVersion == "v1" && r.Kind == "Pod");
        gate.Wait();
        try
        {
            var key = Key(resource, ns, pod);
            if (!objects.TryGetValue(key, out var live))
            {
                throw new InvalidOperationException($"There is no pod {ns}/{pod}.");
            }

            if (!ContainerNames(live).Contains(container))
            {
                throw new ArgumentException($"Pod {ns}/{pod} has no container {container}.", nameof(container));
            }

            if (string.IsNullOrEmpty(live["spec"]?["nodeName"]?.GetValue<string>()))
            {
                var updated = (JsonObject)live.DeepClone();
                updated["spec"]!["nodeName"] = NodeName;
                Stamp(updated["metadata"]!.AsObject(), ns);
                objects[key] = updated;
                Publish("MODIFIED", resource, ns, updated);
                live = updated;
            }

            podLogs[(live["metadata"]!["uid"]!.GetValue<string>(), container)] = Encoding.UTF8.GetBytes(text);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>A subresource of an object: a pod's log, or the 404 kube-apiserver answers for one it does not serve.</summary>
    private (int, JsonNode) Subresource(Resource resource, string? ns, string name, string subresource, RecordedRequest r, HttpContext http)
    {
        if (resource == RepositoryResource && subresource == "status" && ns is not null && r.Method == "PATCH")
        {
            return PatchStatus(resource, ns, name, r);
        }

        if (resource.ApiVersion != "v1" || resource.Plural != "pods" || subresource != "log" || ns is null)
        {
            return Failure(404, "NotFound", "the server could not find the requested resource", Details(null, "", null));
        }

        return r.Method == "GET"
            ? PodLog(resource, ns, name, http)
            : Failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", Details(null, "", null));
    }

    private (int, JsonNode) PodLog(Resource resource, string ns, string name, HttpContext http)
    {
        var query = http.Request.Query;

        // The query decodes into PodLogOptions field by field (tailLines before limitBytes), then is validated.
        if (Integer(query, "tailLines", out var tailLines) is { } badTail)
        {
            return badTail;
        }

        if (Integer(query, "limitBytes", out var limitBytes) is { } badLimit)
        {
            return badLimit;
        }

        var causes = new List<(string Reason, string Message, string Field)>();
        if (tailLines < 0)
        {
            causes.Add(("FieldValueInvalid", $"Invalid value: {tailLines}: must be greater than or equal to 0", "tailLines"));
        }

        if (limitBytes < 1)
        {
            causes.Add(("FieldValueInvalid", $"Invalid value: {limitBytes}: must be greater than 0", "limitBytes"));
        }

        if (causes.Count > 0)
        {
            var each = causes.Select(c => $"{c.Field}: {c.Message}").ToList();
            return Failure(422, "Invalid", $"PodLogOptions \"{name}\" is invalid: {(each.Count == 1 ? each[0] : $"[{string.Join(", ", each)}]")}",
                Details(name, "", "PodLogOptions", [.. causes]));
        }

        // Unlike the fake's other reads, no namespace check: the real server just finds no pod there.
        if (!objects.TryGetValue(Key(resource, ns, name), out var pod))
        {
            return Failure(404, "NotFound", $"pods \"{name}\" not found", Details(name, "", "pods"));
        }

        var names = ContainerNames(pod);
        var container = query["container"].FirstOrDefault() ?? "";
        if (container.Length == 0)
        {
            var regular = (pod["spec"]?["containers"] as JsonArray ?? []).Select(c => c?["name"]?.GetValue<string>()).OfType<string>().ToList();
            if (regular.Count != 1)
            {
                return Failure(400, "BadRequest", $"a container name must be specified for pod {name}, choose one of: [{string.Join(' ', names)}]");
            }

            container = regular[0];
        }
        else if (!names.Contains(container))
        {
            return Failure(400, "BadRequest", $"container {container} is not valid for pod {name}");
        }

        if (string.IsNullOrEmpty(pod["spec"]?["nodeName"]?.GetValue<string>()))
        {
            // No node, so no kubelet to ask: kube-apiserver streams nothing and answers 204.
            http.Items[TextItem] = Array.Empty<byte>();
            return (204, new JsonObject());
        }

        var log = podLogs.GetValueOrDefault((pod["metadata"]!["uid"]!.GetValue<string>(), container)) ?? [];
        var tail = Tail(log, tailLines);
        http.Items[TextItem] = limitBytes is { } limit && tail.Length > limit ? tail[..(int)limit] : tail;
        return (200, new JsonObject());
    }

    /// <summary>A pod's init containers, containers and ephemeral containers, in that order, as kube-apiserver lists them.</summary>
    private static List<string> ContainerNames(JsonObject pod) =>
        [.. ContainerFields
            .SelectMany(field => pod["spec"]?[field] as JsonArray ?? [])
            .Select(c => c?["name"]?.GetValue<string>())
            .OfType<string>()];

    /// <summary>The last <paramref name="lines"/> lines of a log (a last line without a newline counts), all of it when null.</summary>
    private static byte[] Tail(byte[] log, long? lines)
    {
        if (lines is not { } wanted)
        {
            return log;
        }

        var starts = new List<int>();
        for (var i = 0; i < log.Length; i++)
        {
            if (i == 0 || log[i - 1] == (byte)'\n')
            {
                starts.Add(i);
            }
        }

        return wanted == 0 ? [] : wanted >= starts.Count ? log : log[starts[starts.Count - (int)wanted]..];
    }

    /// <summary>An optional int64 query parameter as Go's <c>strconv.ParseInt</c> reads its first value, or the 400 it answers.</summary>
    private static (int, JsonNode)? Integer(IQueryCollection query, string parameter, out long? value)
    {
        value = null;
        if (query[parameter].FirstOrDefault() is not { } text)
        {
            return null;
        }

        if (!GoInteger().IsMatch(text))
        {
            return Failure(400, "BadRequest", $"strconv.ParseInt: parsing \"{text}\": invalid syntax");
        }

        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed))
        {
            return Failure(400, "BadRequest", $"strconv.ParseInt: parsing \"{text}\": value out of range");
        }

        value = parsed;
        return null;
    }

    [GeneratedRegex("^[+-]?[0-9]+$")]
    private static partial Regex GoInteger();
}

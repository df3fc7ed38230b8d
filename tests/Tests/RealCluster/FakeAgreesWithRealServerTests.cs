using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CiTrigger.Tests.Fakes;
using Xunit;

namespace CiTrigger.Tests.RealCluster;

/// <summary>
/// The fake Kubernetes API stands in for the real one wherever faults are needed, so it must answer the
/// requests this service sends the way the real one does: the same table of requests goes to both, and
/// status codes, content types, <c>Status</c> bodies and object shapes must match.
/// </summary>
public sealed partial class FakeAgreesWithRealServerTests(RealClusterFixture fixture)
{
    private const string Workflows = "/apis/argoproj.io/v1alpha1/namespaces/ci/workflows";

    /// <summary>One request of the table; {id} is replaced by a run-unique word, the same for both servers.</summary>
    private sealed record Exchange(string Name, string Method, string Path, string? ContentType = null, string? Body = null);

    private static Exchange[] Table() =>
    [
        new("create by generateName", "POST", $"{Workflows}?fieldManager=k8s-webhook-handler", "application/json",
            """{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"generateName":"agree-","labels":{"agreement":"{id}"}},"spec":{"entrypoint":"a"}}"""),
        new("apply that creates", "PATCH", $"{Workflows}/named-{{id}}?fieldManager=k8s-webhook-handler&force=true", "application/apply-patch+yaml",
            """{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"name":"named-{id}","labels":{"agreement":"{id}"}},"spec":{"entrypoint":"first"}}"""),
        new("apply again", "PATCH", $"{Workflows}/named-{{id}}?fieldManager=k8s-webhook-handler&force=true", "application/apply-patch+yaml",
            """{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"name":"named-{id}","labels":{"agreement":"{id}"}},"spec":{"entrypoint":"second"}}"""),
        new("apply conflicting with another manager", "PATCH", $"{Workflows}/named-{{id}}?fieldManager=someone-else", "application/apply-patch+yaml",
            """{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"name":"named-{id}"},"spec":{"entrypoint":"theirs"}}"""),
        new("apply of another manager agreeing on the value", "PATCH", $"{Workflows}/named-{{id}}?fieldManager=someone-else", "application/apply-patch+yaml",
            """{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"name":"named-{id}"},"spec":{"entrypoint":"second"}}"""),
        new("apply without a field manager", "PATCH", $"{Workflows}/named-{{id}}", "application/apply-patch+yaml",
            """{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"name":"named-{id}"},"spec":{"entrypoint":"x"}}"""),
        new("get of a missing object", "GET", $"{Workflows}/missing-{{id}}"),
        new("create without spec", "POST", $"{Workflows}?fieldManager=k8s-webhook-handler", "application/json",
            """{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"name":"nospec-{id}"}}"""),
        new("create in a missing namespace", "POST", "/apis/argoproj.io/v1alpha1/namespaces/nowhere-{id}/workflows?fieldManager=k8s-webhook-handler", "application/json",
            """{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"generateName":"agree-"},"spec":{"entrypoint":"a"}}"""),
        new("create of a name that exists", "POST", $"{Workflows}?fieldManager=k8s-webhook-handler", "application/json",
            """{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"name":"named-{id}"},"spec":{"entrypoint":"a"}}"""),
        new("list by label", "GET", $"{Workflows}?labelSelector=agreement%3D{{id}}"),
        new("a resource of a group the server does not serve", "POST", "/apis/example.com/v1/namespaces/ci/gadgets", "application/json",
            """{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"generateName":"g-"}}"""),
        new("a resource a served group lacks", "POST", "/apis/argoproj.io/v1alpha1/namespaces/ci/gizmos", "application/json",
            """{"apiVersion":"argoproj.io/v1alpha1","kind":"Gizmo","metadata":{"generateName":"g-"}}"""),
        new("discovery of a served group", "GET", "/apis/argoproj.io/v1alpha1"),
        new("discovery of a group the server does not serve", "GET", "/apis/example.com/v1"),
        new("discovery of the core group", "GET", "/api/v1"),
    ];

    [Fact]
    public async Task The_fake_answers_the_services_requests_as_the_real_api_server_does()
    {
        var cluster = await fixture.GetAsync();
        await using var fake = await FakeKubernetesApi.StartAsync();
        using var real = cluster.Server.HttpClient(cluster.Server.AdminToken);
        using var imitation = new HttpClient { BaseAddress = fake.BaseAddress };
        imitation.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", FakeKubernetesApi.Token);
        var id = Guid.NewGuid().ToString("N")[..8];

        var differences = new List<string>();
        foreach (var exchange in Table())
        {
            var expected = await ShapeAsync(real, exchange, id);
            var actual = await ShapeAsync(imitation, exchange, id);
            if (expected != actual)
            {
                differences.Add($"{exchange.Name}:\n  real: {expected}\n  fake: {actual}");
            }
        }

        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    /// <summary>What the answer must agree on, with the run's id and generated name suffixes blanked out.</summary>
    private static async Task<string> ShapeAsync(HttpClient client, Exchange exchange, string id)
    {
        using var request = new HttpRequestMessage(new HttpMethod(exchange.Method), exchange.Path.Replace("{id}", id, StringComparison.Ordinal));
        if (exchange.Body is { } body)
        {
            request.Content = new StringContent(body.Replace("{id}", id, StringComparison.Ordinal), Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(exchange.ContentType!);
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var shape = new JsonObject
        {
            ["code"] = (int)response.StatusCode,
            ["contentType"] = response.Content.Headers.ContentType?.MediaType,
        };
        JsonObject json;
        try
        {
            json = JsonNode.Parse(text) as JsonObject ?? throw new System.Text.Json.JsonException("not an object");
        }
        catch (System.Text.Json.JsonException)
        {
            shape["body"] = text;
            return shape.ToJsonString();
        }

        if (json["kind"]?.GetValue<string>() == "Status")
        {
            shape["status"] = Pick(json, "kind", "apiVersion", "status", "reason", "code", "message");
            shape["details"] = json["details"] is JsonObject details ? Pick(details, "name", "group", "kind", "causes") : null;
        }
        else if (json["kind"]?.GetValue<string>() == "APIResourceList")
        {
            // The fake serves more kinds than this cluster has; the ones the service uses must look the same.
            shape["list"] = Pick(json, "kind", "apiVersion", "groupVersion");
            shape["resources"] = new JsonArray([.. json["resources"]!.AsArray()
                .Where(r => r!["name"]!.GetValue<string>() is "workflows" or "workflows/status" or "configmaps" or "pods")
                .Select(r => (JsonNode?)new JsonObject
                {
                    ["name"] = r!["name"]!.DeepClone(),
                    ["namespaced"] = r["namespaced"]!.DeepClone(),
                    ["kind"] = r["kind"]!.DeepClone(),
                    ["verbs"] = new JsonArray([.. r["verbs"]!.AsArray().Select(v => v!.GetValue<string>()).Order(StringComparer.Ordinal).Select(v => (JsonNode?)v)]),
                })
                .OrderBy(r => r!["name"]!.GetValue<string>(), StringComparer.Ordinal)]);
        }
        else if (json["items"] is JsonArray items)
        {
            shape["list"] = Pick(json, "kind", "apiVersion");
            shape["items"] = new JsonArray([.. items.Select(i => (JsonNode?)Pick(i!["metadata"]!.AsObject(), "name", "namespace", "labels"))]);
        }
        else
        {
            shape["object"] = Pick(json, "kind", "apiVersion", "spec");
            shape["metadata"] = Pick(json["metadata"]!.AsObject(), "name", "generateName", "namespace", "labels");
        }

        return Generated().Replace(shape.ToJsonString().Replace(id, "{id}", StringComparison.Ordinal), "agree-{suffix}");
    }

    private static JsonObject Pick(JsonObject from, params string[] fields)
    {
        var picked = new JsonObject();
        foreach (var field in fields)
        {
            picked[field] = from[field]?.DeepClone();
        }

        return picked;
    }

    [GeneratedRegex("agree-[bcdfghjklmnpqrstvwxz2456789]{5}")]
    private static partial Regex Generated();
}

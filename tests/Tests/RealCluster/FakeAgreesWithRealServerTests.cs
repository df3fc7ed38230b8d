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
    private const string Jobs = "/apis/batch/v1/namespaces/ci/jobs";
    private const string Job = """{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"job-{id}","labels":{"agreement":"{id}"}},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"a","image":"busybox"}]}}}}""";
    private const string Pods = "/api/v1/namespaces/ci/pods";
    private const string Secrets = "/api/v1/namespaces/ci/secrets";

    /// <summary>A run's Git credential Secret as KubernetesRunSecrets creates it (values base64: x-access-token, ghs_test, a store line).</summary>
    private const string RunSecret = """{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/basic-auth","metadata":{"name":"git-auth-{id}","labels":{"agreement":"{id}"},"annotations":{"k8s-webhook-handler.io/delivery":"d-{id}"}},"data":{"username":"eC1hY2Nlc3MtdG9rZW4=","password":"Z2hzX3Rlc3Q=",".git-credentials":"aHR0cHM6Ly94LWFjY2Vzcy10b2tlbjpnaHNfdGVzdEBnaXRodWIuY29tCg=="}}""";

    /// <summary>A pod no node runs: this cluster has no scheduler and no kubelet, so <c>spec.nodeName</c> stays empty.</summary>
    private const string Pod = """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pod-{id}","labels":{"agreement":"{id}"}},"spec":{"restartPolicy":"Never","initContainers":[{"name":"init","image":"busybox"}],"containers":[{"name":"main","image":"busybox"},{"name":"sidecar","image":"busybox"}]}}""";

    /// <summary>A pod of one container and an init container, on no node either.</summary>
    private const string SoloPod = """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"solo-{id}"},"spec":{"initContainers":[{"name":"init","image":"busybox"}],"containers":[{"name":"only","image":"busybox"}]}}""";

    /// <summary>The query the service sends for a failed container's log (KubernetesRunLogs), without the container.</summary>
    private const string LogQuery = "tailLines=200&limitBytes=65536";

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
        new("list by the label's existence, with a parameter the server does not know", "GET", $"{Workflows}?labelSelector=agreement&bogus=1"),
        new("list a page", "GET", $"{Workflows}?labelSelector=agreement%3D{{id}}&limit=1"),
        new("list the next page", "GET", $"{Workflows}?labelSelector=agreement%3D{{id}}&limit=1&continue={{continue}}"),
        new("list a page without a selector", "GET", $"{Workflows}?limit=1"),
        new("list with a continue token the server never gave", "GET", $"{Workflows}?labelSelector=agreement&limit=1&continue=bm90LWEtdG9rZW4"),
        new("list with a limit that is no number", "GET", $"{Workflows}?labelSelector=agreement&limit=some"),
        new("list by name, as the log reader reads a run object", "GET", $"{Workflows}?fieldSelector=metadata.name%3Dnamed-{{id}}"),
        new("list by a field the server cannot select by", "GET", $"{Workflows}?fieldSelector=spec.entrypoint%3Da"),
        new("create after the list", "POST", $"{Workflows}?fieldManager=k8s-webhook-handler", "application/json",
            """{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"name":"later-{id}","labels":{"agreement":"{id}"}},"spec":{"entrypoint":"a"}}"""),
        new("merge patch", "PATCH", $"{Workflows}/named-{{id}}", "application/merge-patch+json", """{"spec":{"shutdown":"Terminate"}}"""),
        new("merge patch of a missing object", "PATCH", $"{Workflows}/missing-{{id}}", "application/merge-patch+json", """{"spec":{"shutdown":"Terminate"}}"""),
        new("patch with a content type no patch has", "PATCH", $"{Workflows}/named-{{id}}", "application/json", """{"spec":{"shutdown":"Stop"}}"""),
        new("delete", "DELETE", $"{Workflows}/later-{{id}}"),
        new("watch from the list's resourceVersion sees ADDED, MODIFIED and DELETED", "GET",
            $"{Workflows}?watch=1&labelSelector=agreement%3D{{id}}&resourceVersion={{rv}}&timeoutSeconds=1"),
        new("watch from the start lists the objects as ADDED", "GET", $"{Workflows}?watch=true&labelSelector=agreement%3D{{id}}&timeoutSeconds=1"),
        new("watch from a resourceVersion older than the server keeps", "GET", $"{Workflows}?watch=true&labelSelector=agreement&resourceVersion=1&timeoutSeconds=1"),
        new("create a job", "POST", Jobs, "application/json", Job),
        new("delete a job in the background", "DELETE", $"{Jobs}/job-{{id}}?propagationPolicy=Background"),
        new("delete a job that is gone", "DELETE", $"{Jobs}/job-{{id}}?propagationPolicy=Background"),
        new("delete with a propagation policy the server does not know", "DELETE", $"{Jobs}/job-{{id}}?propagationPolicy=Eventually"),
        // keepRuns deletes with DeleteOptions in the body (preconditions): the server then reads none from the query.
        new("create a job that stays", "POST", Jobs, "application/json", Job.Replace("job-{id}", "kept-{id}", StringComparison.Ordinal)),
        new("delete a job whose resourceVersion precondition no longer holds", "DELETE", $"{Jobs}/kept-{{id}}", "application/json",
            """{"preconditions":{"resourceVersion":"1"}}"""),
        new("delete a job whose uid precondition does not hold", "DELETE", $"{Jobs}/kept-{{id}}", "application/json", """{"preconditions":{"uid":"not-{id}"}}"""),
        new("delete a job by a body without a propagation policy: the query's is not read, and a Job orphans its pods by default", "DELETE",
            $"{Jobs}/kept-{{id}}?propagationPolicy=Background", "application/json", """{"preconditions":{"uid":"{uid}"}}"""),
        new("get of a job waiting for the garbage collector to orphan its pods", "GET", $"{Jobs}/kept-{{id}}"),
        new("create a job to delete by its body", "POST", Jobs, "application/json", Job.Replace("job-{id}", "pruned-{id}", StringComparison.Ordinal)),
        new("delete a job by its body in the background with preconditions that hold", "DELETE", $"{Jobs}/pruned-{{id}}", "application/json",
            """{"propagationPolicy":"Background","preconditions":{"uid":"{uid}","resourceVersion":"{objectRv}"}}"""),
        new("get of a job deleted in the background", "GET", $"{Jobs}/pruned-{{id}}"),
        new("delete with a propagation policy in the body the server does not know", "DELETE", $"{Jobs}/kept-{{id}}", "application/json",
            """{"propagationPolicy":"Eventually"}"""),
        new("create a workflow to delete by its body", "POST", $"{Workflows}?fieldManager=k8s-webhook-handler", "application/json",
            """{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"name":"body-{id}"},"spec":{"entrypoint":"a"}}"""),
        new("delete a workflow by a body with preconditions that hold and no propagation policy", "DELETE", $"{Workflows}/body-{{id}}", "application/json",
            """{"preconditions":{"uid":"{uid}","resourceVersion":"{objectRv}"}}"""),
        new("get of a workflow deleted by its body", "GET", $"{Workflows}/body-{{id}}"),
        // A pod's log, as KubernetesRunLogs reads it. This server has no kubelet, so no pod is on a node and a valid
        // request answers 204; the fake's 200 with a log is tested on the fake alone (Unit/FakePodLogTests).
        new("create a pod", "POST", Pods, "application/json", Pod),
        new("log of a pod that does not exist", "GET", $"{Pods}/missing-{{id}}/log?container=main&{LogQuery}"),
        new("log of a pod no node runs", "GET", $"{Pods}/pod-{{id}}/log?container=main&{LogQuery}"),
        new("log of a pod's init container", "GET", $"{Pods}/pod-{{id}}/log?container=init&{LogQuery}"),
        new("log of a container the pod does not have", "GET", $"{Pods}/pod-{{id}}/log?container=other&{LogQuery}"),
        new("log without a container of a pod that has two", "GET", $"{Pods}/pod-{{id}}/log?{LogQuery}"),
        new("create a pod of one container", "POST", Pods, "application/json", SoloPod),
        new("log without a container of a pod that has one", "GET", $"{Pods}/solo-{{id}}/log?{LogQuery}"),
        new("log by POST", "POST", $"{Pods}/pod-{{id}}/log?container=main", "application/json", "{}"),
        new("log with negative tailLines", "GET", $"{Pods}/pod-{{id}}/log?container=main&tailLines=-1&limitBytes=65536"),
        new("log with tailLines that is no number", "GET", $"{Pods}/pod-{{id}}/log?container=main&tailLines=some&limitBytes=65536"),
        new("log with limitBytes 0", "GET", $"{Pods}/pod-{{id}}/log?container=main&tailLines=200&limitBytes=0"),
        new("log with negative limitBytes", "GET", $"{Pods}/pod-{{id}}/log?container=main&tailLines=200&limitBytes=-5"),
        new("log with limitBytes that is no number", "GET", $"{Pods}/pod-{{id}}/log?container=main&tailLines=200&limitBytes=1.5"),
        new("log with both values invalid", "GET", $"{Pods}/pod-{{id}}/log?container=main&tailLines=-1&limitBytes=0"),
        new("log of a pod that does not exist, with negative tailLines", "GET", $"{Pods}/missing-{{id}}/log?container=main&tailLines=-1"),
        new("log of a container the pod does not have, with limitBytes 0", "GET", $"{Pods}/pod-{{id}}/log?container=other&limitBytes=0"),
        new("log with an empty tailLines", "GET", $"{Pods}/pod-{{id}}/log?container=main&tailLines=&limitBytes=65536"),
        new("log with tailLines out of range", "GET", $"{Pods}/pod-{{id}}/log?container=main&tailLines=99999999999999999999"),
        new("log with tailLines given twice", "GET", $"{Pods}/pod-{{id}}/log?container=main&tailLines=-1&tailLines=5"),
        new("log with a signed limitBytes", "GET", $"{Pods}/pod-{{id}}/log?container=sidecar&limitBytes=%2B3"),
        new("log of a pod that does not exist, with limitBytes that is no number", "GET", $"{Pods}/missing-{{id}}/log?limitBytes=x"),
        new("log with a number and a word", "GET", $"{Pods}/pod-{{id}}/log?container=main&tailLines=-1&limitBytes=some"),
        new("log in a namespace that does not exist", "GET", $"/api/v1/namespaces/nowhere-{{id}}/pods/pod-{{id}}/log?container=main"),
        new("a subresource of pods that no server serves", "GET", $"{Pods}/pod-{{id}}/bogus"),
        new("a resource of a group the server does not serve", "POST", "/apis/example.com/v1/namespaces/ci/gadgets", "application/json",
            """{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"generateName":"g-"}}"""),
        new("a resource a served group lacks", "POST", "/apis/argoproj.io/v1alpha1/namespaces/ci/gizmos", "application/json",
            """{"apiVersion":"argoproj.io/v1alpha1","kind":"Gizmo","metadata":{"generateName":"g-"}}"""),
        // A run's Git credential Secret (KubernetesRunSecrets): created, refreshed, owned, deleted; what the server refuses in one.
        new("create a run's credential secret", "POST", $"{Secrets}?fieldManager=k8s-webhook-handler", "application/json", RunSecret),
        new("create that secret again", "POST", $"{Secrets}?fieldManager=k8s-webhook-handler", "application/json", RunSecret),
        new("merge patch of its data", "PATCH", $"{Secrets}/git-auth-{{id}}?fieldManager=k8s-webhook-handler", "application/merge-patch+json",
            """{"data":{"password":"Z2hzX25ld2Vy"}}"""),
        new("merge patch of its owner", "PATCH", $"{Secrets}/git-auth-{{id}}?fieldManager=k8s-webhook-handler", "application/merge-patch+json",
            """{"metadata":{"ownerReferences":[{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","name":"named-{id}","uid":"0b7e5a1c-0000-4000-8000-00000000{id}"}]}}"""),
        new("create a secret whose owner has no uid and no name", "POST", Secrets, "application/json",
            """{"apiVersion":"v1","kind":"Secret","metadata":{"name":"orphan-{id}","ownerReferences":[{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow"}]}}"""),
        new("merge patch of its type", "PATCH", $"{Secrets}/git-auth-{{id}}", "application/merge-patch+json", """{"type":"Opaque"}"""),
        new("create a basic-auth secret with neither username nor password", "POST", Secrets, "application/json",
            """{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/basic-auth","metadata":{"name":"nouser-{id}"},"data":{"token":"eA=="}}"""),
        new("create a basic-auth secret with only a password, as stringData", "POST", Secrets, "application/json",
            """{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/basic-auth","metadata":{"name":"string-{id}"},"stringData":{"password":"ghs_plain"},"data":{"password":"b2xk"}}"""),
        new("create a secret without a type", "POST", Secrets, "application/json",
            """{"apiVersion":"v1","kind":"Secret","metadata":{"name":"opaque-{id}"},"stringData":{"a":"b"}}"""),
        new("delete the run's secret", "DELETE", $"{Secrets}/git-auth-{{id}}"),
        new("delete it again", "DELETE", $"{Secrets}/git-auth-{{id}}"),
        new("discovery of a served group", "GET", "/apis/argoproj.io/v1alpha1"),
        new("discovery of a group the server does not serve", "GET", "/apis/example.com/v1"),
        new("discovery of the core group", "GET", "/api/v1"),
    ];

    [Fact]
    public async Task The_fake_answers_the_services_requests_as_the_real_api_server_does()
    {
        var cluster = await fixture.GetAsync();
        await using var fake = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        using var real = cluster.Server.HttpClient(cluster.Server.AdminToken);
        using var imitation = new HttpClient { BaseAddress = fake.BaseAddress };
        imitation.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", FakeKubernetesApi.Token);
        var id = Guid.NewGuid().ToString("N")[..8];

        var differences = new List<string>();
        var realVersion = new Dictionary<string, string>();
        var fakeVersion = new Dictionary<string, string>();
        foreach (var exchange in Table())
        {
            var expected = await ShapeAsync(real, exchange, id, realVersion);
            var actual = await ShapeAsync(imitation, exchange, id, fakeVersion);
            if (expected != actual)
            {
                differences.Add($"{exchange.Name}:\n  real: {expected}\n  fake: {actual}");
            }
        }

        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    /// <summary>What the answer must agree on, with the run's id and generated name suffixes blanked out.</summary>
    /// <remarks>
    /// <c>{rv}</c> in a path is the resourceVersion of the last list this server answered, <c>{continue}</c> the
    /// continue token of the last page it answered; <c>{uid}</c> and <c>{objectRv}</c> in a body are the uid and
    /// resourceVersion of the last object it answered.
    /// </remarks>
    private static async Task<string> ShapeAsync(HttpClient client, Exchange exchange, string id, Dictionary<string, string> memory)
    {
        var path = exchange.Path.Replace("{id}", id, StringComparison.Ordinal).Replace("{rv}", memory.GetValueOrDefault("rv"), StringComparison.Ordinal)
            .Replace("{continue}", Uri.EscapeDataString(memory.GetValueOrDefault("continue") ?? ""), StringComparison.Ordinal);
        using var request = new HttpRequestMessage(new HttpMethod(exchange.Method), path);
        if (exchange.Body is { } body)
        {
            request.Content = new StringContent(body.Replace("{id}", id, StringComparison.Ordinal).Replace("{uid}", memory.GetValueOrDefault("uid"), StringComparison.Ordinal)
                .Replace("{objectRv}", memory.GetValueOrDefault("objectRv"), StringComparison.Ordinal), Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(exchange.ContentType!);
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var shape = new JsonObject
        {
            ["code"] = (int)response.StatusCode,
            ["contentType"] = response.Content.Headers.ContentType?.MediaType,
        };
        if (path.Contains("watch=", StringComparison.Ordinal))
        {
            // One event per line; what matters is each event's type and object, with the expired version's number blanked.
            var events = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonNode.Parse(line)!).Select(e => (JsonNode?)new JsonObject
            {
                ["type"] = e["type"]!.DeepClone(),
                ["object"] = e["type"]!.GetValue<string>() == "ERROR"
                    ? Pick(e["object"]!.AsObject(), "kind", "apiVersion", "status", "reason", "code", "message")
                    : Pick(e["object"]!["metadata"]!.AsObject(), "name", "namespace", "labels"),
            });

            // A watch from no resourceVersion starts with the current objects in the watch cache's order, which
            // is not the key order (CI saw both orders): only which objects it lists must agree.
            shape["events"] = new JsonArray([.. path.Contains("resourceVersion=", StringComparison.Ordinal)
                ? events
                : events.OrderBy(e => e!["object"]!["name"]!.GetValue<string>().Replace(id, "", StringComparison.Ordinal), StringComparer.Ordinal)]);
            return Expired().Replace(Generated().Replace(shape.ToJsonString().Replace(id, "{id}", StringComparison.Ordinal), "agree-{suffix}"), "too old resource version: 1 (n)");
        }

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
                .Where(r => r!["name"]!.GetValue<string>() is "workflows" or "workflows/status" or "configmaps" or "pods" or "pods/log")
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
            memory["rv"] = json["metadata"]!["resourceVersion"]!.GetValue<string>();
            // A custom resource's last page carries "continue": "" (the fake leaves it out).
            var next = json["metadata"]!["continue"]?.GetValue<string>() ?? "";
            if (next.Length > 0)
            {
                memory["continue"] = next;
            }

            // A page says whether more follow and, without a selector, how many; the list's own count depends on the cluster.
            shape["list"] = Pick(json, "kind", "apiVersion");
            // The real server pages through the namespace's keys, not the matches: a page may carry a token although no
            // further object matches (other tests' objects follow in key order), so only a first page's token is compared.
            if (!path.Contains("continue=", StringComparison.Ordinal))
            {
                shape["continues"] = next.Length > 0;
            }
            shape["counted"] = json["metadata"]!["remainingItemCount"] is not null;
            // Without a selector the list holds other tests' objects too: only the page's size is compared.
            shape["items"] = path.Contains("labelSelector=", StringComparison.Ordinal)
                ? new JsonArray([.. items.Select(i => (JsonNode?)Pick(i!["metadata"]!.AsObject(), "name", "namespace", "labels"))])
                : items.Count;
        }
        else
        {
            // A Job's or Pod's spec is defaulted by the real server (selector, pod template fields), which the fake does not
            // imitate: the service never reads it.
            shape["object"] = json["kind"]?.GetValue<string>() switch
            {
                "Job" or "Pod" => Pick(json, "kind", "apiVersion"),
                "Secret" => Pick(json, "kind", "apiVersion", "type", "data", "stringData"),
                _ => Pick(json, "kind", "apiVersion", "spec"),
            };
            var metadata = json["metadata"]!.AsObject();
            shape["metadata"] = Pick(metadata, "name", "generateName", "namespace", "labels", "finalizers", "ownerReferences");
            shape["deleting"] = metadata["deletionTimestamp"] is not null;
            memory["uid"] = metadata["uid"]!.GetValue<string>();
            memory["objectRv"] = metadata["resourceVersion"]!.GetValue<string>();
        }

        return ObjectMeta().Replace(InvalidToken().Replace(Generated().Replace(shape.ToJsonString().Replace(id, "{id}", StringComparison.Ordinal), "agree-{suffix}"),
            "continue key is not valid: (why)"), "in record (its value)");
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

    /// <summary>Why a token is not valid is Go's JSON decoder's word on it, which the fake does not imitate.</summary>
    [GeneratedRegex(@"continue key is not valid: [^""]*")]
    private static partial Regex InvalidToken();

    [GeneratedRegex(@"too old resource version: 1 \(\d+\)")]
    private static partial Regex Expired();

    /// <summary>A failed precondition names the object's uid or resourceVersion, which differ between the servers.</summary>
    [GeneratedRegex(@"in record \([^)]*\)")]
    private static partial Regex ObjectMeta();
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Tests.Fakes;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>
/// The fake Kubernetes API's answer with a log (200 <c>text/plain</c>) for a pod a test put on a node with
/// <see cref="FakeKubernetesApi.SetPodLog"/>. It is tested on the fake alone: the agreement table
/// (RealCluster/FakeAgreesWithRealServerTests) runs a kube-apiserver without a kubelet, where every pod is on
/// no node and a log request answers 204, so the table checks every answer but this one. The cut imitates the
/// kubelet's (the last <c>tailLines</c> lines, then their first <c>limitBytes</c> bytes); real logs read through
/// a real kubelet are checked in RealNode/RunLogTests.
/// </summary>
public sealed class FakePodLogTests
{
    private const string Pods = "/api/v1/namespaces/ci/pods";
    private const string Log = "one\ntwo\nthree\nfour";

    [Theory]
    [InlineData("", Log)]
    [InlineData("&tailLines=2", "three\nfour")]
    [InlineData("&tailLines=4", Log)]
    [InlineData("&tailLines=9", Log)]
    [InlineData("&tailLines=0", "")]
    [InlineData("&limitBytes=6", "one\ntw")]
    [InlineData("&limitBytes=999", Log)]
    [InlineData("&tailLines=2&limitBytes=4", "thre")]
    [InlineData("&limitBytes=4&tailLines=3", "two\n")]
    public async Task A_pod_on_a_node_answers_its_log_cut_to_the_last_tailLines_lines_then_their_first_limitBytes_bytes(string query, string expected)
    {
        await using var fake = await FakeKubernetesApi.StartAsync();
        using var http = Client(fake);
        await CreatePodAsync(http, "p1");
        fake.SetPodLog("ci", "p1", "main", Log);

        using var response = await http.GetAsync(new Uri($"{Pods}/p1/log?container=main{query}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
        var recorded = Assert.Single(fake.Requests, r => r.Path == $"{Pods}/p1/log");
        Assert.Equal(("GET", $"?container=main{query}", 200), (recorded.Method, recorded.Query, recorded.Status));
    }

    [Fact]
    public async Task LimitBytes_counts_bytes_not_characters_and_a_trailing_newline_ends_the_last_line()
    {
        await using var fake = await FakeKubernetesApi.StartAsync();
        using var http = Client(fake);
        await CreatePodAsync(http, "p1");
        fake.SetPodLog("ci", "p1", "main", "first\nsecond é\n");

        // "é" is two bytes (C3 A9): eight bytes end inside it.
        Assert.Equal([.. "second "u8, 0xC3], await BytesAsync(http, "p1", "container=main&tailLines=1&limitBytes=8"));
        Assert.Equal("second é\n", Encoding.UTF8.GetString(await BytesAsync(http, "p1", "container=main&tailLines=1")));
    }

    [Fact]
    public async Task A_pod_answers_204_until_a_log_puts_it_on_a_node_and_its_other_containers_then_have_empty_logs()
    {
        await using var fake = await FakeKubernetesApi.StartAsync();
        using var http = Client(fake);
        await CreatePodAsync(http, "p1");

        using (var before = await http.GetAsync(new Uri($"{Pods}/p1/log?container=main", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NoContent, before.StatusCode);
            Assert.Null(before.Content.Headers.ContentType);
        }

        fake.SetPodLog("ci", "p1", "main", "hello\n");

        var pod = JsonNode.Parse(await http.GetStringAsync(new Uri($"{Pods}/p1", UriKind.Relative)))!;
        Assert.Equal(FakeKubernetesApi.NodeName, pod["spec"]!["nodeName"]!.GetValue<string>());
        Assert.Equal("hello\n", await http.GetStringAsync(new Uri($"{Pods}/p1/log?container=main", UriKind.Relative)));
        using var sidecar = await http.GetAsync(new Uri($"{Pods}/p1/log?container=sidecar", UriKind.Relative));
        Assert.Equal((HttpStatusCode.OK, ""), (sidecar.StatusCode, await sidecar.Content.ReadAsStringAsync()));
        Assert.Throws<ArgumentException>(() => fake.SetPodLog("ci", "p1", "other", "x"));
        Assert.Throws<InvalidOperationException>(() => fake.SetPodLog("ci", "missing", "main", "x"));
    }

    [Fact]
    public async Task The_service_reads_the_end_of_a_failed_job_pods_failed_container_from_the_fake()
    {
        await using var fake = await FakeKubernetesApi.StartAsync();
        fake.Seed(new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject { ["name"] = "build-x1", ["namespace"] = "ci", ["labels"] = new JsonObject { ["job-name"] = "build" } },
            ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "setup" }, new JsonObject { ["name"] = "test" }) },
            ["status"] = new JsonObject
            {
                ["phase"] = "Failed",
                ["containerStatuses"] = new JsonArray(
                    new JsonObject { ["name"] = "setup", ["state"] = new JsonObject { ["terminated"] = new JsonObject { ["exitCode"] = 0 } } },
                    new JsonObject { ["name"] = "test", ["state"] = new JsonObject { ["terminated"] = new JsonObject { ["exitCode"] = 3 } } }),
            },
        });
        fake.SetPodLog("ci", "build-x1", "test", string.Concat(Enumerable.Range(1, 80).Select(i => $"line {i}\n")));
        var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(
            fake.WriteKubeConfig(Directory.CreateTempSubdirectory("citrigger-podlog-").FullName)));
        var logs = new KubernetesRunLogs(client, NullLogger<KubernetesRunLogs>.Instance);

        var log = await logs.FailedLogAsync(new AppliedObject("batch/v1", "Job", "ci", "build", "created"), CancellationToken.None);

        Assert.Equal(new RunLog("build-x1", "test", string.Join('\n', Enumerable.Range(31, 50).Select(i => $"line {i}"))), log);
        var read = Assert.Single(fake.Requests, r => r.Path.EndsWith("/log", StringComparison.Ordinal));
        Assert.Equal(("/api/v1/namespaces/ci/pods/build-x1/log", 200), (read.Path, read.Status));
        Assert.Contains("container=test", read.Query, StringComparison.Ordinal);
        Assert.Contains("tailLines=50", read.Query, StringComparison.Ordinal);
        Assert.Contains("limitBytes=1048576", read.Query, StringComparison.Ordinal);

        // Long lines: the last 50 are more than the 64 KiB shown, and what is shown is their end, where the error is.
        fake.SetPodLog("ci", "build-x1", "test", string.Concat(Enumerable.Range(1, 60).Select(i => new string('a', 2000) + $" line {i}\n")) + "error: the test failed\n");
        var longLines = await logs.FailedLogAsync(new AppliedObject("batch/v1", "Job", "ci", "build", "created"), CancellationToken.None);
        Assert.EndsWith("error: the test failed", longLines!.Text, StringComparison.Ordinal);
        Assert.Equal(RunLogText.MaxBytes, longLines.Text!.Length);

        // Nothing written: no empty log, a reason.
        fake.SetPodLog("ci", "build-x1", "test", "");
        var empty = await logs.FailedLogAsync(new AppliedObject("batch/v1", "Job", "ci", "build", "created"), CancellationToken.None);
        Assert.Equal((null, "the container wrote no log (or its pod never ran on a node)"), (empty!.Text, empty.Withheld));
    }

    [Fact]
    public async Task A_runs_own_git_credential_secret_deleted_as_the_run_finished_still_lets_its_log_be_shown_with_the_token_masked()
    {
        await using var fake = await FakeKubernetesApi.StartAsync();
        fake.Seed(new JsonObject
        {
            ["apiVersion"] = "batch/v1",
            ["kind"] = "Job",
            ["metadata"] = new JsonObject { ["name"] = "clone", ["namespace"] = "ci", ["annotations"] = new JsonObject { ["k8s-webhook-handler.io/git-auth-secret"] = "git-auth-0123456789abcdef0123" } },
            ["spec"] = new JsonObject(),
        });
        JsonObject Pod(string name, params string[] secrets) => new()
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "ci", ["labels"] = new JsonObject { ["job-name"] = "clone" }, ["creationTimestamp"] = $"2030-01-01T00:00:0{secrets.Length}Z" },
            ["spec"] = new JsonObject
            {
                ["containers"] = new JsonArray(new JsonObject
                {
                    ["name"] = "git",
                    ["env"] = new JsonArray([.. secrets.Select(secret => (JsonNode?)new JsonObject
                    {
                        ["name"] = "V" + secret.Length,
                        ["valueFrom"] = new JsonObject { ["secretKeyRef"] = new JsonObject { ["name"] = secret, ["key"] = "password" } },
                    })]),
                }),
            },
            ["status"] = new JsonObject
            {
                ["phase"] = "Failed",
                ["containerStatuses"] = new JsonArray(new JsonObject { ["name"] = "git", ["state"] = new JsonObject { ["terminated"] = new JsonObject { ["exitCode"] = 128 } } }),
            },
        };
        var token = "ghs_" + new string('x', 36);
        fake.Seed(Pod("clone-a", "git-auth-0123456789abcdef0123"));
        fake.SetPodLog("ci", "clone-a", "git", $"cloning https://x-access-token:{token}@github.com/octo/app.git\nfatal: repository not found\n");
        var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(
            fake.WriteKubeConfig(Directory.CreateTempSubdirectory("citrigger-podlog-").FullName)));
        var logs = new KubernetesRunLogs(client, NullLogger<KubernetesRunLogs>.Instance);
        var job = new AppliedObject("batch/v1", "Job", "ci", "clone", "created");

        var shown = await logs.FailedLogAsync(job, CancellationToken.None);

        Assert.Equal(new RunLog("clone-a", "git", "cloning https://x-access-token:***@github.com/octo/app.git\nfatal: repository not found"), shown);

        // Any other Secret the pod uses that cannot be read still withholds the log: its values are unknown.
        fake.Seed(Pod("clone-b", "git-auth-0123456789abcdef0123", "deploy-key"));
        fake.SetPodLog("ci", "clone-b", "git", "the deploy key is hunter2\n");
        var withheld = await logs.FailedLogAsync(job, CancellationToken.None);

        Assert.Equal(("clone-b", null), (withheld!.Pod, withheld.Text));
        Assert.Equal("Secret deploy-key, which the pod uses, could not be read to mask its values (the API server answered 404)", withheld.Withheld);
    }

    private static HttpClient Client(FakeKubernetesApi fake)
    {
        var http = new HttpClient { BaseAddress = fake.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", FakeKubernetesApi.Token);
        return http;
    }

    private static async Task CreatePodAsync(HttpClient http, string name)
    {
        using var body = new StringContent($$$"""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"{{{name}}}"},"spec":{"containers":[{"name":"main","image":"busybox"},{"name":"sidecar","image":"busybox"}]}}""",
            Encoding.UTF8, "application/json");
        using var created = await http.PostAsync(new Uri(Pods, UriKind.Relative), body);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    private static async Task<byte[]> BytesAsync(HttpClient http, string pod, string query) =>
        await http.GetByteArrayAsync(new Uri($"{Pods}/{pod}/log?{query}", UriKind.Relative));
}

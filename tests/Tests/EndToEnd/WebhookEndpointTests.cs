using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.EndToEnd;

/// <summary>The HTTP contract of <c>POST /webhooks/github</c>, over real HTTP to the running service.</summary>
[Collection(SharedService.Name)]
public class WebhookEndpointTests(ServiceFixture fixture)
{
    private TriggerHost Service => fixture.Service;

    private static string APush(string repo = "octo/app", string gitRef = "refs/heads/main") =>
        Payloads.Push(repo, gitRef, Payloads.Sha(1), Payloads.Sha(2));

    private static async Task<(HttpStatusCode Status, JsonObject Body)> Answer(HttpResponseMessage response)
    {
        using (response)
        {
            return (response.StatusCode, (await response.Content.ReadFromJsonAsync<JsonObject>())!);
        }
    }

    [Fact]
    public async Task A_signed_push_is_queued_with_202_naming_delivery_and_key()
    {
        var delivery = Guid.NewGuid().ToString();

        var (status, body) = await Answer(await Service.SendAsync("push", APush("Octo/Queued"), delivery));

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("queued", body["status"]!.GetValue<string>());
        Assert.Equal(delivery, body["delivery"]!.GetValue<string>());
        Assert.Equal("octo/queued:refs/heads/main", body["key"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_same_delivery_again_is_a_duplicate_and_not_queued_twice()
    {
        var repo = fixture.NewRepo();
        repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow, Payloads.Sha(2));
        var delivery = Guid.NewGuid().ToString();
        var push = APush(repo.FullName);

        var first = await Answer(await Service.SendAsync("push", push, delivery));
        var second = await Answer(await Service.SendAsync("push", push, delivery));
        await fixture.Finished(repo.FullName, "refs/heads/main");
        var third = await Answer(await Service.SendAsync("push", push, delivery));

        Assert.Equal(HttpStatusCode.Accepted, first.Status);
        Assert.Equal((HttpStatusCode.OK, "duplicate"), (second.Status, second.Body["status"]!.GetValue<string>()));
        Assert.Equal((HttpStatusCode.OK, "duplicate"), (third.Status, third.Body["status"]!.GetValue<string>()));
        Assert.Single(fixture.AppliedFor(repo.FullName));
    }

    [Fact]
    public async Task Ping_is_answered_200_ignored()
    {
        var (status, body) = await Answer(await Service.SendAsync("ping", Payloads.Example("ping").ToJsonString()));

        Assert.Equal((HttpStatusCode.OK, "ignored"), (status, body["status"]!.GetValue<string>()));
        Assert.Contains("ping", body["reason"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_event_type_not_handled_is_answered_200_ignored_with_a_reason()
    {
        var (status, body) = await Answer(await Service.SendAsync("issues", Payloads.Example("issues").ToJsonString()));

        Assert.Equal((HttpStatusCode.OK, "ignored"), (status, body["status"]!.GetValue<string>()));
        Assert.Contains("Handler:Events", body["reason"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ref_matching_IgnoreRefs_is_answered_200_ignored()
    {
        var (status, body) = await Answer(await Service.SendAsync("push", APush(gitRef: "refs/heads/ignored/wip")));

        Assert.Equal((HttpStatusCode.OK, "ignored"), (status, body["status"]!.GetValue<string>()));
        Assert.Contains("Handler:IgnoreRefs", body["reason"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("sha1-only")]
    [InlineData("wrong-secret")]
    [InlineData("not-hex")]
    public async Task A_missing_wrong_or_sha1_only_signature_is_answered_401(string variant)
    {
        var body = Encoding.UTF8.GetBytes(APush());
        using var request = TriggerHost.Webhook("push", body, "application/json", Guid.NewGuid().ToString(),
            secret: variant == "wrong-secret" ? "not the secret" : null);
        if (variant == "sha1-only")
        {
            var sha1 = System.Security.Cryptography.HMACSHA1.HashData(Encoding.UTF8.GetBytes(TriggerHost.Secret), body);
            request.Headers.Add("X-Hub-Signature", "sha1=" + Convert.ToHexStringLower(sha1));
        }
        else if (variant == "not-hex")
        {
            request.Headers.Add("X-Hub-Signature-256", "sha256=" + new string('z', 64));
        }

        var (status, answer) = await Answer(await Service.Client.SendAsync(request));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("X-Hub-Signature-256", answer["reason"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_json_is_answered_400_with_a_reason()
    {
        var (status, body) = await Answer(await Service.SendAsync("push", "{\"ref\": "));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("not valid JSON", body["reason"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_push_without_required_fields_is_answered_400_naming_the_field()
    {
        var (status, body) = await Answer(await Service.SendAsync("push", """{"ref":"refs/heads/main"}"""));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("repository", body["reason"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reason_is_plain_JSON_without_HTML_escapes()
    {
        using var response = await Service.SendAsync("push", Payloads.Push("octo/app", "refs/heads/main", Payloads.Sha(1), "not-a-commit"));
        var raw = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'after' is not a commit id", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u0027", raw, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("X-GitHub-Event")]
    [InlineData("X-GitHub-Delivery")]
    public async Task A_missing_GitHub_header_is_answered_400(string header)
    {
        using var request = TriggerHost.Webhook("push", Encoding.UTF8.GetBytes(APush()), "application/json", Guid.NewGuid().ToString());
        request.Headers.Remove(header);

        var (status, body) = await Answer(await Service.Client.SendAsync(request));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(header, body["reason"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_answered_413()
    {
        var body = new byte[1_048_577];
        Array.Fill(body, (byte)' ');

        using var response = await Service.Client.SendAsync(TriggerHost.Webhook("push", body, "application/json", Guid.NewGuid().ToString()));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task A_form_encoded_payload_is_accepted_with_the_signature_over_the_raw_form_body()
    {
        var body = Encoding.UTF8.GetBytes("payload=" + Uri.EscapeDataString(APush("octo/form")));

        var (status, answer) = await Answer(await Service.Client.SendAsync(
            TriggerHost.Webhook("push", body, "application/x-www-form-urlencoded", Guid.NewGuid().ToString())));

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("octo/form:refs/heads/main", answer["key"]!.GetValue<string>());
    }

    [Fact]
    public async Task Another_content_type_is_answered_415()
    {
        using var response = await Service.Client.SendAsync(
            TriggerHost.Webhook("push", Encoding.UTF8.GetBytes(APush()), "text/plain", Guid.NewGuid().ToString()));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task A_signed_payload_with_a_20_MB_ssh_url_is_answered_400_naming_the_field_and_its_limit()
    {
        await using var env = await IsolatedService.StartAsync(new Dictionary<string, string> { ["Webhook:MaxPayloadBytes"] = "33554432" });
        var payload = JsonNode.Parse(APush("octo/huge"))!;
        payload["repository"]!["ssh_url"] = "git@github.com:" + new string('a', 20 * 1024 * 1024);

        var (status, body) = await Answer(await env.Service.SendAsync("push", payload.ToJsonString()));
        using var state = await env.Service.Client.GetAsync("/admin/repos/octo/huge/refs/heads/main");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("'repository.ssh_url'", body["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("2048 characters", body["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, state.StatusCode);
    }

    [Theory]
    [InlineData("ref")]
    [InlineData("repository.full_name")]
    [InlineData("repository.ssh_url")]
    [InlineData("repository.default_branch")]
    public async Task A_lone_surrogate_in_a_payload_field_is_answered_400_naming_the_field(string path)
    {
        var payload = JsonNode.Parse(APush())!;
        var parts = path.Split('.');
        parts[..^1].Aggregate(payload, (node, part) => node[part]!)[parts[^1]] = "@@";
        var json = payload.ToJsonString().Replace("\"@@\"", "\"x\\udc00\"", StringComparison.Ordinal);

        using var response = await Service.SendAsync("push", json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var (_, body) = await Answer(response);
        Assert.Contains($"'{path}' is not valid Unicode", body["reason"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_UTF8_in_a_JSON_body_is_answered_400()
    {
        var json = Encoding.UTF8.GetBytes(APush(gitRef: "refs/heads/@@"));
        var at = json.AsSpan().IndexOf("@@"u8);
        json[at] = 0xC0;
        json[at + 1] = 0xAF;

        using var response = await Service.Client.SendAsync(TriggerHost.Webhook("push", json, "application/json", Guid.NewGuid().ToString()));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var (_, body) = await Answer(response);
        Assert.Contains("not valid UTF-8", body["reason"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_UTF8_in_a_form_encoded_payload_is_answered_400()
    {
        var form = "payload=" + Uri.EscapeDataString(APush("octo/form-utf8", "refs/heads/@@")).Replace("%40%40", "%ED%A0%80", StringComparison.Ordinal);

        var (status, body) = await Answer(await Service.Client.SendAsync(
            TriggerHost.Webhook("push", Encoding.ASCII.GetBytes(form), "application/x-www-form-urlencoded", Guid.NewGuid().ToString())));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("not valid UTF-8", body["reason"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("octo/newline\n", "refs/heads/main", "\\u000A")]
    [InlineData("octo/newline-ref", "refs/heads/main\n", "\\u000A")]
    [InlineData("octo/rlo", "refs/heads/txt.\u202Eexe", "\\u202E")]
    [InlineData("octo/zwsp", "refs/heads/ma\u200Bin", "\\u200B")]
    public async Task A_name_with_a_control_or_format_character_is_answered_400_showing_it_escaped(string repo, string gitRef, string shown)
    {
        var (status, body) = await Answer(await Service.SendAsync("push", Payloads.Push(repo, gitRef, Payloads.Sha(1), Payloads.Sha(2))));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(shown, body["reason"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("X-GitHub-Event", "push\u00e9")]
    [InlineData("X-GitHub-Delivery", "d-\u00e9")]
    [InlineData("X-GitHub-Delivery", "d-\u202E1")]
    public async Task A_GitHub_header_with_non_ASCII_bytes_is_answered_400(string header, string value)
    {
        using var handler = new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 };
        using var client = new HttpClient(handler) { BaseAddress = Service.Client.BaseAddress };
        using var request = TriggerHost.Webhook("push", Encoding.UTF8.GetBytes(APush()), "application/json", Guid.NewGuid().ToString());
        request.Headers.Remove(header);
        request.Headers.TryAddWithoutValidation(header, value);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Health_answers_while_the_process_lives_and_ready_once_the_silo_is_active()
    {
        using var health = await Service.Client.GetAsync("/healthz");
        using var ready = await Service.Client.GetAsync("/readyz");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (health.StatusCode, ready.StatusCode));
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
    }

    public static TheoryData<string> Examples()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(Payloads.FixturesRoot, "webhooks"), "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(Path.Combine(Payloads.FixturesRoot, "webhooks"), file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task Every_example_of_every_event_type_gets_a_2xx(string example)
    {
        var eventType = Path.GetDirectoryName(example)!;
        var body = await File.ReadAllTextAsync(Path.Combine(Payloads.FixturesRoot, "webhooks", example));

        var (status, answer) = await Answer(await Service.SendAsync(eventType, body));

        var handled = eventType is "push" or "delete" or "check_run" or "check_suite" or "pull_request" or "issue_comment";
        Assert.True(handled ? status is HttpStatusCode.Accepted or HttpStatusCode.OK : status == HttpStatusCode.OK,
            $"{example}: {(int)status} {answer.ToJsonString()}");
        Assert.Equal(status == HttpStatusCode.Accepted ? "queued" : "ignored", answer["status"]!.GetValue<string>());
    }
}

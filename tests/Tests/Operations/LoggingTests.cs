using System.Text.Json.Nodes;
using System.Text;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Operations;

public class LoggingTests
{
    [Fact]
    public async Task With_json_output_every_line_an_event_causes_carries_its_delivery_repository_ref_and_revision()
    {
        await using var github = await FakeGitHubApi.StartAsync();
        await using var kubernetes = await FakeKubernetesApi.StartAsync();
        var repo = github.Repo("octo/logs");
        var revision = repo.Commit("main", "README.md", "no manifest, so the attempt fails and says so");
        var directory = Directory.CreateTempSubdirectory("citrigger-logs-").FullName;
        await using var silo = await SiloProcess.StartAsync(ServiceSettings.Combine(new Dictionary<string, string>
        {
            ["Webhook:Secrets"] = TriggerHost.Secret,
            ["GitHub:BaseUrl"] = github.BaseAddress.ToString(),
            ["Kubernetes:KubeConfig"] = kubernetes.WriteKubeConfig(directory),
            ["Logging:Console:FormatterName"] = "json",
        }, ServiceSettings.EmbeddedSilo(directory)));
        var delivery = Guid.NewGuid().ToString();

        using var response = await silo.Client.SendAsync(TriggerHost.Webhook("push",
            Encoding.UTF8.GetBytes(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), revision)), "application/json", delivery));
        List<JsonObject> Lines() => [.. silo.Output.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!.AsObject())
            .Where(l => l["Scopes"]!.AsArray().Any(s => s is JsonObject o && o["Delivery"]?.GetValue<string>() == delivery))];
        await Eventually.Until(() => Lines().Any(l => l["Category"]!.GetValue<string>().EndsWith("AttemptRunner", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(20), "the processing side's log line about the failed attempt");

        var lines = Lines();
        Assert.Contains(lines, l => l["Category"]!.GetValue<string>() == "CiTrigger.Gateway.Webhooks.WebhookReceiver");
        Assert.Contains(lines, l => l["Category"]!.GetValue<string>() == "CiTrigger.Grains.Processing.AttemptRunner" && l["LogLevel"]!.GetValue<string>() == "Warning");
        Assert.All(lines, line =>
        {
            var scope = line["Scopes"]!.AsArray().OfType<JsonObject>().SelectMany(s => s).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Last().Value);
            Assert.Equal((repo.FullName, "refs/heads/main", revision),
                (scope["Repository"]!.GetValue<string>(), scope["Ref"]!.GetValue<string>(), scope["Revision"]!.GetValue<string>()));
        });
    }
}

using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Processes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Operations;

/// <summary>
/// The README's quick start, run as written: its commands are read from the README itself, so the page and
/// the test cannot drift apart. Only what a test must own is added: free ports, a data directory of its own,
/// and the send's <c>--url</c> to reach them.
/// </summary>
public partial class QuickStartTests
{
    [Fact]
    public async Task The_readmes_quick_start_turns_a_push_into_an_annotated_manifest_without_github_or_a_cluster_within_a_minute()
    {
        var quickStart = QuickStart.FromReadme();
        var clock = Stopwatch.StartNew();

        // GitHub is a port nothing listens on: had the service asked it for the manifest, the event would be retrying, not applied.
        await using var silo = await SiloProcess.StartAsync(
            ServiceSettings.Combine(quickStart.Settings, new Dictionary<string, string> { ["GitHub:BaseUrl"] = $"http://127.0.0.1:{FreePorts.Next()}" },
                ServiceSettings.EmbeddedSilo(Directory.CreateTempSubdirectory("citrigger-quickstart-").FullName)),
            environment: quickStart.Environment);
        var sent = await SiloCommand.RunAsync([.. quickStart.Send, "--url", new Uri(silo.Address, "/webhooks/github").ToString()]);

        Assert.True(sent.Exit == 0, sent.Output + sent.Error);
        Assert.StartsWith("202 ", sent.Output, StringComparison.Ordinal);
        // The delivery's status and its kept manifest are written beside the ref, a moment after the apply: wait for both.
        var statusPath = quickStart.ManifestPath[..quickStart.ManifestPath.LastIndexOf('/')];
        var (status, kept) = await Eventually.Until(async () =>
        {
            using var delivery = await silo.Client.GetAsync(statusPath);
            using var manifest = await silo.Client.GetAsync(quickStart.ManifestPath);
            var state = delivery.StatusCode == HttpStatusCode.OK ? JsonNode.Parse(await delivery.Content.ReadAsStringAsync()) : null;
            return state?["status"]?.GetValue<string>() == "applied" && manifest.StatusCode == HttpStatusCode.OK
                ? Tuple.Create(state, JsonNode.Parse(await manifest.Content.ReadAsStringAsync())!["manifest"]!.GetValue<string>())
                : null;
        }, TimeSpan.FromSeconds(20), $"{statusPath} applied and its manifest kept:\n{silo.Output}");
        clock.Stop();

        Assert.Equal("dry-run", status["result"]!["objects"]![0]!["action"]!.GetValue<string>());
        var workflow = JsonNode.Parse(kept.Split("---\n", StringSplitOptions.RemoveEmptyEntries)[0])!;
        var annotations = workflow["metadata"]!["annotations"]!;
        Assert.Equal("Workflow", workflow["kind"]!.GetValue<string>());
        Assert.Equal("ci", workflow["metadata"]!["namespace"]!.GetValue<string>());
        Assert.Equal(
            (quickStart.Option("repo"), quickStart.Option("ref"), quickStart.Option("revision"), "push", quickStart.Option("delivery")),
            (annotations["k8s-webhook-handler.io/repo_name"]!.GetValue<string>(), annotations["k8s-webhook-handler.io/ref"]!.GetValue<string>(),
                annotations["k8s-webhook-handler.io/revision"]!.GetValue<string>(), annotations["k8s-webhook-handler.io/event_type"]!.GetValue<string>(),
                annotations["k8s-webhook-handler.io/delivery"]!.GetValue<string>()));
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"the quick start took {clock.Elapsed} from start-up to the annotated manifest");
    }

    /// <summary>The quick start's three commands: start the service, send a push, read its manifest back.</summary>
    private sealed partial record QuickStart(Dictionary<string, string> Settings, Dictionary<string, string?> Environment, string[] Send, string ManifestPath)
    {
        public string Option(string name) => Send[Array.IndexOf(Send, "--" + name) + 1];

        public static QuickStart FromReadme()
        {
            var readme = File.ReadAllText(Path.Combine(RepositoryFiles.Root, "README.md"));
            var section = SectionPattern().Match(readme);
            Assert.True(section.Success, "README.md has a '## Quick start' section");
            var commands = CodeBlockPattern().Matches(section.Value)
                .SelectMany(block => block.Groups["code"].Value.Replace("\\\n", " ", StringComparison.Ordinal).Split('\n'))
                .Select(line => line.Trim())
                .ToList();

            var run = Assert.Single(commands, c => c.Contains("dotnet run --no-build --project src/Silo -- ", StringComparison.Ordinal));
            var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var setting in Words(run[(run.IndexOf(" -- ", StringComparison.Ordinal) + 4)..]))
            {
                var (key, value) = (setting[2..setting.IndexOf('=', StringComparison.Ordinal)], setting[(setting.IndexOf('=', StringComparison.Ordinal) + 1)..]);

                // The README runs from the repository's root; the test's process starts in its output directory.
                settings[key] = key.Equals("Handler:LocalManifests", StringComparison.OrdinalIgnoreCase) ? Path.Combine(RepositoryFiles.Root, value) : value;
            }

            var environment = Words(run[..run.IndexOf("dotnet run", StringComparison.Ordinal)])
                .ToDictionary(v => v[..v.IndexOf('=', StringComparison.Ordinal)], v => (string?)v[(v.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            var send = Assert.Single(commands, c => c.Contains("Silo.dll send ", StringComparison.Ordinal));
            var curl = Assert.Single(commands, c => c.StartsWith("curl localhost:8080/admin/deliveries/", StringComparison.Ordinal) && c.EndsWith("/manifest", StringComparison.Ordinal));
            return new QuickStart(settings, environment, Words(send[(send.IndexOf("Silo.dll ", StringComparison.Ordinal) + 9)..]), curl["curl localhost:8080".Length..]);
        }

        private static string[] Words(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries);

        [GeneratedRegex(@"^## Quick start\n.*?(?=^## )", RegexOptions.Multiline | RegexOptions.Singleline)]
        private static partial Regex SectionPattern();

        [GeneratedRegex(@"^```sh\n(?<code>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
        private static partial Regex CodeBlockPattern();
    }
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text.Json.Nodes;
using CiTrigger.Silo.Cli;
using CiTrigger.Tests.EndToEnd;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Processes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Operations;

public class CommandLineTests
{
    private static async Task<(int Exit, string Output, string Error)> Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await Commands.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private static string ManifestFile(string yaml)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("manifest-").FullName, "workflow.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public async Task Annotate_prints_every_document_with_the_events_annotations_for_kubectl()
    {
        var file = ManifestFile(SampleManifest.Workflow + "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n");

        var (exit, output, _) = await Run("annotate", "--file", file, "--event", "delete", "--repo", "octo/app", "--ref", "refs/heads/gone", "--delivery", "d-42");

        Assert.Equal(0, exit);
        var documents = output.Split("---\n", StringSplitOptions.RemoveEmptyEntries).Select(d => JsonNode.Parse(d)!).ToList();
        Assert.Equal(["Workflow", "ConfigMap"], documents.Select(d => d["kind"]!.GetValue<string>()));
        var annotations = documents[0]["metadata"]!["annotations"]!;
        Assert.Equal(("delete", "refs/heads/gone", "octo/app", "d-42", "platform"), (
            annotations["k8s-webhook-handler.io/event_type"]!.GetValue<string>(),
            annotations["k8s-webhook-handler.io/ref"]!.GetValue<string>(),
            annotations["k8s-webhook-handler.io/repo_name"]!.GetValue<string>(),
            annotations["k8s-webhook-handler.io/delivery"]!.GetValue<string>(),
            annotations["team"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Annotate_without_a_required_flag_explains_its_usage_and_exits_2()
    {
        var (exit, _, error) = await Run("annotate", "--file", ManifestFile(SampleManifest.Workflow), "--event", "push");

        Assert.Equal(2, exit);
        Assert.Contains("--repo is required", error, StringComparison.Ordinal);
        Assert.Contains("usage:", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_accepts_a_good_manifest_and_says_what_each_document_would_do()
    {
        var file = ManifestFile(SampleManifest.Workflow + "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n");

        var (exit, output, _) = await Run("validate", "--file", file);

        Assert.Equal(0, exit);
        Assert.Contains("document 0: argoproj.io/v1alpha1 Workflow ci/ci-*: would be created", output, StringComparison.Ordinal);
        Assert.Contains("document 1: v1 ConfigMap ci/settings: would be server-side applied", output, StringComparison.Ordinal);
        Assert.Contains("ok: 2 document(s) would be accepted", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: prod}\n", "names namespace 'prod'")]
    [InlineData("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n", "cluster-scoped Namespace")]
    [InlineData("a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n", "alias expansions counted")]
    [InlineData("a: 1\na: 2\n", "duplicate key 'a'")]
    public async Task Validate_says_exactly_what_the_service_would_refuse_and_exits_1(string yaml, string reason)
    {
        var (exit, output, _) = await Run("validate", "--file", ManifestFile(yaml), "--Handler:MaxYamlNodes=30");

        Assert.Equal(1, exit);
        Assert.StartsWith("refused: ", output, StringComparison.Ordinal);
        Assert.Contains(reason, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_uses_the_services_configuration_keys()
    {
        var file = ManifestFile("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: prod}\n");

        var (exit, output, _) = await Run("validate", "--file", file, "--Handler:AllowedNamespaces=prod");

        Assert.Equal(0, exit);
        Assert.Contains("prod/x", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_posts_a_signed_push_to_a_running_service_and_reports_its_answer()
    {
        await using var env = await IsolatedService.StartAsync();
        var url = new Uri(env.Service.Client.BaseAddress!, "/webhooks/github").ToString();

        var accepted = await Run("send", "--url", url, "--secret", TriggerHost.Secret, "--repo", "octo/cli", "--ref", "refs/heads/main", "--revision", Payloads.Sha(5));
        var refused = await Run("send", "--url", url, "--secret", "wrong", "--repo", "octo/cli", "--ref", "refs/heads/main", "--revision", Payloads.Sha(6));
        var form = await Run("send", "--url", url, "--secret", TriggerHost.Secret, "--form", "--event", "ping", "--file",
            Path.Combine(Payloads.FixturesRoot, "webhooks", "ping", "0.json"));

        Assert.Equal(0, accepted.Exit);
        Assert.StartsWith("202 ", accepted.Output, StringComparison.Ordinal);
        Assert.Contains("octo/cli:refs/heads/main", accepted.Output, StringComparison.Ordinal);
        Assert.Equal(1, refused.Exit);
        Assert.StartsWith("401 ", refused.Output, StringComparison.Ordinal);
        Assert.Equal(0, form.Exit);
        Assert.Contains("\"ignored\"", form.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_to_a_service_that_is_not_there_fails_with_a_message()
    {
        var (exit, _, error) = await Run("send", "--url", $"http://127.0.0.1:{FreePorts.Next()}/webhooks/github", "--secret", "s",
            "--repo", "octo/cli", "--ref", "refs/heads/main", "--revision", Payloads.Sha(5));

        Assert.Equal(1, exit);
        Assert.Contains("send: http://127.0.0.1:", error, StringComparison.Ordinal);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static readonly string[] APush = ["--repo", "octo/cli", "--ref", "refs/heads/main", "--revision", Payloads.Sha(5)];

    [Theory]
    [InlineData("send", "--help")]
    [InlineData("send", "-h")]
    [InlineData("annotate", "--help")]
    [InlineData("annotate", "-h")]
    [InlineData("validate", "--help")]
    [InlineData("validate", "-h")]
    public async Task Help_on_every_subcommand_prints_each_option_on_a_line_of_its_own(string command, string help)
    {
        var (exit, output, error) = await Run(command, "--file", "/nonexistent", help);

        Assert.Equal((0, ""), (exit, error));
        var options = Lines(output).Where(l => l.StartsWith("  --", StringComparison.Ordinal)).ToList();
        Assert.Contains(options, l => l.StartsWith("  --file ", StringComparison.Ordinal));
        Assert.Contains(options, l => l.StartsWith("  --help, -h ", StringComparison.Ordinal));
        Assert.All(options, l => Assert.Matches(@"^  --\S+(,? \S+)?\s{2,}\S", l));
        Assert.Equal(options.Count, options.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]).Distinct().Count());
    }

    [Fact]
    public async Task Version_prints_the_informational_version_of_the_executable()
    {
        var expected = typeof(Commands).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;

        var (exit, output, error) = await SiloCommand.RunAsync("--version");

        Assert.Equal((0, ""), (exit, error));
        Assert.Equal($"k8s-webhook-handler {expected}", output.Trim());
    }

    [Theory]
    [InlineData("unknown option --bogus", "send", "--bogus")]
    [InlineData("unknown option --Handler:MaxAttempts", "send", "--Handler:MaxAttempts=3")]
    [InlineData("--revision needs a value", "send", "--repo", "octo/cli", "--ref", "refs/heads/main", "--revision")]
    [InlineData("'bogus' is not an event type this service knows", "send", "--event", "bogus")]
    [InlineData("'ping' is not an event type this service handles", "annotate", "--file", "/dev/null", "--event", "ping", "--repo", "octo/cli", "--ref", "refs/heads/main")]
    [InlineData("unknown option --nope", "validate", "--file", "/dev/null", "--nope")]
    [InlineData("unexpected argument 'stray'", "validate", "stray")]
    [InlineData("unknown command 'sned'", "sned")]
    public async Task Unknown_options_commands_and_event_names_are_refused_with_exit_2(string message, params string[] args)
    {
        var (exit, output, error) = await SiloCommand.RunAsync(args);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Contains(message, Lines(error)[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("notaurl", "is not an http or https URL")]
    [InlineData("ftp://127.0.0.1/webhooks/github", "is not an http or https URL")]
    [InlineData("unreachable", "Connection refused")]
    public async Task Send_to_a_bad_url_or_an_unreachable_server_prints_one_line_and_exits_1(string url, string message)
    {
        var target = url == "unreachable" ? $"http://127.0.0.1:{FreePorts.Next()}/webhooks/github" : url;

        var (exit, output, error) = await SiloCommand.RunAsync(["send", "--url", target, "--secret", "s", .. APush]);

        Assert.Equal((1, ""), (exit, output));
        Assert.Contains(message, Assert.Single(Lines(error)), StringComparison.Ordinal);
    }

    /// <summary>
    /// A sparse file of 8 GiB takes no disk, but reading it would take the memory; <c>/dev/zero</c> has no size
    /// to check and no end.
    /// </summary>
    [Theory]
    [InlineData("annotate", "annotate: ")]
    [InlineData("validate", "refused: ")]
    public async Task Annotate_and_validate_refuse_a_file_over_the_manifest_limit_without_reading_it(string command, string prefix)
    {
        var sparse = Path.Combine(Directory.CreateTempSubdirectory("manifest-").FullName, "huge.yaml");
        await using (var file = File.Create(sparse))
        {
            file.SetLength(8L << 30);
        }

        foreach (var path in new[] { sparse, "/dev/zero" })
        {
            string[] args = command == "annotate"
                ? ["annotate", "--file", path, "--event", "push", "--repo", "octo/cli", "--ref", "refs/heads/main"]
                : ["validate", "--file", path];

            var (exit, output, error) = await SiloCommand.RunAsync(args);

            var line = Assert.Single(Lines(output + error));
            Assert.Equal(1, exit);
            Assert.StartsWith(prefix + path, line, StringComparison.Ordinal);
            Assert.Contains("larger than 1048576 bytes (Handler:MaxManifestBytes)", line, StringComparison.Ordinal);
        }
    }

    public static TheoryData<string, string> MalformedValues() => new()
    {
        { "--Handler:MaxAttempts=abc", "configuration error: Handler:MaxAttempts: 'abc' is not a whole number" },
        { "--Handler:RetryBaseDelay=5", "configuration error: Handler:RetryBaseDelay: '5' is not a time span; write hours:minutes:seconds, e.g. 00:00:05 for five seconds" },
        { "--Webhook:Insecure=maybe", "configuration error: Webhook:Insecure: 'maybe' is not true or false" },
        { "--Orleans:Membership:ProbeTimeout=10", "configuration error: Orleans:Membership:ProbeTimeout: '10' is not a time span" },
    };

    [Theory]
    [MemberData(nameof(MalformedValues))]
    public async Task A_malformed_configuration_value_stops_the_service_with_one_line_naming_the_key(string setting, string message)
    {
        var (exit, output, error) = await SiloCommand.RunAsync(
            "--Webhook:Secrets=s", "--Kubernetes:DryRun=true", $"--Orleans:DataPath={Directory.CreateTempSubdirectory("citrigger-config-").FullName}",
            $"--urls=http://127.0.0.1:{FreePorts.Next()}", setting);

        Assert.Equal(2, exit);
        Assert.StartsWith(message, Assert.Single(Lines(output + error)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_names_a_malformed_configuration_value_with_exit_2()
    {
        var (exit, _, error) = await Run("validate", "--file", ManifestFile(SampleManifest.Workflow), "--Handler:MaxYamlNodes=many");

        Assert.Equal(2, exit);
        Assert.Equal("validate: configuration error: Handler:MaxYamlNodes: 'many' is not a whole number", error.Trim());
    }

    [Theory]
    [InlineData("urls")]
    [InlineData("Orleans:SiloPort")]
    [InlineData("Orleans:GatewayPort")]
    public async Task A_port_in_use_stops_the_service_with_one_line_and_exit_2(string key)
    {
        var taken = new TcpListener(IPAddress.Loopback, FreePorts.Next());
        taken.Start();
        try
        {
            var port = ((IPEndPoint)taken.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
            var settings = new Dictionary<string, string>
            {
                ["urls"] = $"http://127.0.0.1:{FreePorts.Next()}",
                ["Orleans:SiloPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
                ["Orleans:GatewayPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
            };
            settings[key] = key == "urls" ? $"http://127.0.0.1:{port}" : port;

            var (exit, output, error) = await SiloCommand.RunAsync(
            [
                "--Webhook:Secrets=s", "--Kubernetes:DryRun=true", $"--Orleans:DataPath={Directory.CreateTempSubdirectory("citrigger-port-").FullName}",
                .. settings.Select(kv => $"--{kv.Key}={kv.Value}"),
            ]);

            Assert.Equal(2, exit);
            var line = Assert.Single(Lines(output + error));
            Assert.StartsWith("cannot start: ", line, StringComparison.Ordinal);
            Assert.Contains(port, line, StringComparison.Ordinal);
            Assert.Contains(key == "urls" ? "address already in use" : $"({key}) is already in use", line, StringComparison.Ordinal);
        }
        finally
        {
            taken.Stop();
        }
    }
}

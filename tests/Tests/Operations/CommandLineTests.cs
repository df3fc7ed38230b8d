using System.Text.Json.Nodes;
using CiTrigger.Silo.Cli;
using CiTrigger.Tests.EndToEnd;
using CiTrigger.Tests.Fakes;
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
}

using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class ManifestAnnotatorTests
{
    private static readonly HookEvent Push = new("72d3162e-cc78-11e3-81ab-4c9367dc0958", "push", "", "Octo/App",
        "git://github.com/Octo/App.git", "git@github.com:Octo/App.git", "refs/heads/main",
        new string('b', 40), new string('a', 40), "main", false, DateTimeOffset.UnixEpoch);

    public static TheoryData<string, string> ExpectedAnnotations => new()
    {
        { "k8s-webhook-handler.io/ref", "refs/heads/main" },
        { "k8s-webhook-handler.io/revision", new string('b', 40) },
        { "k8s-webhook-handler.io/before", new string('a', 40) },
        { "k8s-webhook-handler.io/repo_name", "Octo/App" },
        { "k8s-webhook-handler.io/repo_url", "git://github.com/Octo/App.git" },
        { "k8s-webhook-handler.io/repo_ssh", "git@github.com:Octo/App.git" },
        { "k8s-webhook-handler.io/event_type", "push" },
        { "k8s-webhook-handler.io/event_action", "" },
        { "k8s-webhook-handler.io/delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958" },
    };

    [Theory]
    [MemberData(nameof(ExpectedAnnotations))]
    public void Every_promised_annotation_is_set(string key, string value)
    {
        var annotated = ManifestAnnotator.Annotate(new JsonObject { ["kind"] = "Workflow" }, Push, 0);

        Assert.Equal(value, annotated["metadata"]!["annotations"]![key]!.GetValue<string>());
    }

    [Fact]
    public void A_github_event_carries_exactly_the_promised_annotations_and_another_forge_s_names_its_forge_last()
    {
        var github = ManifestAnnotator.AnnotationsFor(Push with { Forge = ForgeNames.GitHub });
        var other = ManifestAnnotator.AnnotationsFor(Push with { Forge = "gitlab" });

        Assert.Equal(ExpectedAnnotations.Select(row => new KeyValuePair<string, string>(row.Data.Item1, row.Data.Item2)), github);
        Assert.Equal([.. github, new("k8s-webhook-handler.io/forge", "gitlab")], other);
    }

    [Fact]
    public void The_manifests_own_annotations_and_labels_are_kept_and_ours_win_on_our_keys()
    {
        var document = JsonNode.Parse("""
            {"metadata": {"annotations": {"team": "ci", "k8s-webhook-handler.io/ref": "stale"}, "labels": {"app": "build"}}}
            """)!.AsObject();

        var metadata = ManifestAnnotator.Annotate(document, Push, 3)["metadata"]!;

        Assert.Equal("ci", metadata["annotations"]!["team"]!.GetValue<string>());
        Assert.Equal("refs/heads/main", metadata["annotations"]!["k8s-webhook-handler.io/ref"]!.GetValue<string>());
        Assert.Equal("3", metadata["annotations"]![ManifestAnnotator.DocumentAnnotation]!.GetValue<string>());
        Assert.Equal("build", metadata["labels"]!["app"]!.GetValue<string>());
        Assert.Equal(Push.Delivery, metadata["labels"]![ManifestAnnotator.DeliveryLabel]!.GetValue<string>());
    }

    [Fact]
    public void The_input_document_is_not_changed()
    {
        var document = JsonNode.Parse("""{"metadata": {"name": "x"}}""")!.AsObject();

        ManifestAnnotator.Annotate(document, Push, 0);

        Assert.Equal("""{"metadata":{"name":"x"}}""", document.ToJsonString());
    }

    [Theory]
    [InlineData("""{"metadata": "text"}""", "metadata must be a mapping")]
    [InlineData("""{"metadata": {"annotations": ["a"]}}""", "metadata.annotations must be a mapping")]
    public void Metadata_that_is_not_a_mapping_is_refused(string json, string reason) =>
        Assert.Contains(reason, Assert.Throws<ManifestException>(() => ManifestAnnotator.Annotate(JsonNode.Parse(json)!.AsObject(), Push, 0)).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("72d3162e-cc78-11e3-81ab-4c9367dc0958", true)]
    [InlineData("-starts-with-dash", false)]
    [InlineData("has space", false)]
    public void Delivery_labels_are_always_valid_label_values(string delivery, bool unchanged)
    {
        var label = ManifestAnnotator.LabelValue(delivery);

        Assert.Equal(unchanged, label == delivery);
        Assert.Matches("^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$", label);
        Assert.Equal(label, ManifestAnnotator.LabelValue(delivery));
    }
}

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
    public void An_object_is_labelled_with_its_delivery_its_refs_hash_and_in_pipeline_mode_its_pipeline_and_nothing_else()
    {
        var single = ManifestAnnotator.Annotate(new JsonObject { ["kind"] = "Workflow" }, Push, 0)["metadata"]!["labels"]!.AsObject();
        var piped = ManifestAnnotator.Annotate(new JsonObject { ["kind"] = "Workflow" }, Push, 0, pipeline: "backend")["metadata"]!["labels"]!.AsObject();

        // The ref key lower-cases the repository, as the ref grain's key does.
        var refHash = ManifestAnnotator.RefLabelValue("octo/app:refs/heads/main");
        Assert.Equal(new Dictionary<string, string>
        {
            ["k8s-webhook-handler.io/delivery"] = Push.Delivery,
            ["k8s-webhook-handler.io/ref-hash"] = refHash,
        }, single.ToDictionary(l => l.Key, l => l.Value!.GetValue<string>()));
        Assert.Equal(new Dictionary<string, string>
        {
            ["k8s-webhook-handler.io/delivery"] = Push.Delivery,
            ["k8s-webhook-handler.io/ref-hash"] = refHash,
            ["k8s-webhook-handler.io/pipeline"] = "backend",
        }, piped.ToDictionary(l => l.Key, l => l.Value!.GetValue<string>()));
    }

    [Fact]
    public void Ref_labels_are_valid_label_values_one_per_ref_of_each_repository_and_forge()
    {
        string[] keys =
        [
            RefKey.For(ForgeNames.GitHub, "octo/app", "refs/heads/main"),
            RefKey.For(ForgeNames.GitHub, "octo/app", "refs/heads/feature"),
            RefKey.For(ForgeNames.GitHub, "octo/other", "refs/heads/main"),
            RefKey.For("gitlab", "octo/app", "refs/heads/main"),
            RefKey.For(ForgeNames.GitHub, "octo/app", "refs/heads/" + new string('x', 300)),
        ];

        var labels = keys.Select(ManifestAnnotator.RefLabelValue).ToList();

        Assert.All(labels, label => Assert.Matches("^[a-f0-9]{32}$", label));
        Assert.Equal(keys.Length, labels.Distinct().Count());
        Assert.Equal(labels[0], ManifestAnnotator.RefLabelValue(RefKey.For(ForgeNames.GitHub, "Octo/App", "refs/heads/main")));
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

using System.Text.Json.Nodes;
using System.Text;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class ManifestReaderTests
{
    private static readonly ManifestLimits Limits = ManifestLimits.Default;

    private static IReadOnlyList<JsonObject> Read(string yaml, ManifestLimits? limits = null) =>
        ManifestReader.Read(Encoding.UTF8.GetBytes(yaml), limits ?? Limits);

    private static JsonNode? Value(string scalar) => Read($"value: {scalar}\n")[0]["value"];

    /// <summary>Guards against a regression to unbounded work: such a test must fail, not hang the run.</summary>
    private static Task<ManifestException> RefusedSoon(string yaml, ManifestLimits? limits = null) =>
        Task.Run(() => Assert.Throws<ManifestException>(() => Read(yaml, limits))).WaitAsync(TimeSpan.FromSeconds(10));

    [Theory]
    [InlineData("42", "42")]
    [InlineData("-17", "-17")]
    [InlineData("0755", "493")]
    [InlineData("0o17", "15")]
    [InlineData("0x1F", "31")]
    [InlineData("0b101", "5")]
    [InlineData("1_000", "1000")]
    [InlineData("1.5", "1.5")]
    [InlineData("1e3", "1000")]
    [InlineData("true", "true")]
    [InlineData("yes", "true")]
    [InlineData("On", "true")]
    [InlineData("no", "false")]
    [InlineData("OFF", "false")]
    [InlineData("~", "null")]
    [InlineData("null", "null")]
    [InlineData("", "null")]
    [InlineData("9223372036854775808", "9223372036854775808")]
    public void Plain_scalars_are_typed_as_kubectl_types_them(string scalar, string json) =>
        Assert.Equal(json, Value(scalar)?.ToJsonString() ?? "null");

    [Theory]
    [InlineData("hello")]
    [InlineData("1.2.3")]
    [InlineData("v1")]
    [InlineData("0x")]
    [InlineData("2026-11-24")]
    [InlineData("ci-k8s-webhook-handler-")]
    [InlineData("git@github.com:octo/app.git")]
    public void Plain_scalars_that_are_no_number_bool_or_null_stay_strings(string scalar) =>
        Assert.Equal(scalar, Value(scalar)!.GetValue<string>());

    [Theory]
    [InlineData("\"42\"", "42")]
    [InlineData("'true'", "true")]
    [InlineData("\"0755\"", "0755")]
    [InlineData("!!str 123", "123")]
    [InlineData("''", "")]
    public void Quoted_and_str_tagged_scalars_stay_strings(string scalar, string expected) =>
        Assert.Equal(expected, Value(scalar)!.GetValue<string>());

    [Fact]
    public void Block_scalars_stay_strings()
    {
        var doc = Read("literal: |\n  42\nfolded: >\n  true\n")[0];

        Assert.Equal(("42\n", "true\n"), (doc["literal"]!.GetValue<string>(), doc["folded"]!.GetValue<string>()));
    }

    [Fact]
    public void Int_tags_type_quoted_values_and_unknown_tags_are_refused()
    {
        Assert.Equal(7, Value("!!int \"7\"")!.GetValue<long>());
        Assert.Contains("unsupported tag", Assert.Throws<ManifestException>(() => Read("value: !Ref x\n")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_document_is_read_in_order_and_empty_ones_are_skipped()
    {
        var docs = Read("---\n# only a comment\n---\nkind: A\n---\n---\nkind: B\n...\n---\nkind: C\n");

        Assert.Equal(["A", "B", "C"], docs.Select(d => d["kind"]!.GetValue<string>()));
    }

    [Fact]
    public void A_thousand_document_manifest_parses()
    {
        var yaml = string.Concat(Enumerable.Range(0, 1000).Select(i =>
            $"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  labels: {{app: ci}}\ndata:\n  index: \"{i}\"\n"));

        var docs = Read(yaml);

        Assert.Equal(1000, docs.Count);
        Assert.Equal("cm-999", docs[999]["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_500_byte_alias_bomb_is_refused()
    {
        var yaml = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i < 10; i++)
        {
            yaml.Append($"{(char)('a' + i)}: &{(char)('a' + i)} [*{(char)('a' + i - 1)}, *{(char)('a' + i - 1)}, *{(char)('a' + i - 1)}, *{(char)('a' + i - 1)}, *{(char)('a' + i - 1)}, *{(char)('a' + i - 1)}, *{(char)('a' + i - 1)}, *{(char)('a' + i - 1)}, *{(char)('a' + i - 1)}]\n");
        }

        Assert.InRange(Encoding.UTF8.GetByteCount(yaml.ToString()), 300, 600);
        var refused = await RefusedSoon(yaml.ToString());
        Assert.Contains("alias expansions counted", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Aliases_count_in_full_against_the_node_limit()
    {
        const string Yaml = "base: &b {a: 1, b: 2, c: 3}\nx: [*b, *b, *b, *b]\n";

        // 11 nodes outside the anchor, 7 for the anchored mapping, 4 x 7 for its aliases: 39 in all.
        Assert.Single(Read(Yaml, Limits with { MaxNodes = 39 }));
        Assert.Throws<ManifestException>(() => Read(Yaml, Limits with { MaxNodes = 38 }));
    }

    [Theory]
    [InlineData('[', ']')]
    [InlineData('{', '}')]
    public async Task Hundred_thousand_deep_nesting_is_refused(char open, char close)
    {
        var yaml = "x: " + (open == '{' ? string.Concat(Enumerable.Repeat("{a: ", 100_000)) + "1" + new string('}', 100_000) : new string(open, 100_000) + new string(close, 100_000));

        var refused = await RefusedSoon(yaml, Limits with { MaxBytes = 10_000_000 });

        Assert.Contains("nesting deeper than 64", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_up_to_the_limit_is_accepted()
    {
        // The root mapping is level 1, so 63 sequences inside it reach the limit of 64 exactly.
        var yaml = "x: " + new string('[', 63) + new string(']', 63);

        Assert.Single(Read(yaml));
        Assert.Throws<ManifestException>(() => Read("x: " + new string('[', 64) + new string(']', 64)));
    }

    [Fact]
    public void Merge_keys_fill_in_keys_and_explicit_keys_win()
    {
        var doc = Read("base: &base {image: alpine, cpu: 1}\nstep:\n  <<: *base\n  cpu: 2\n")[0];

        Assert.Equal("""{"image":"alpine","cpu":1}""", doc["base"]!.ToJsonString());
        Assert.Equal(2, doc["step"]!["cpu"]!.GetValue<long>());
        Assert.Equal("alpine", doc["step"]!["image"]!.GetValue<string>());
    }

    [Fact]
    public void An_alias_is_a_copy_not_a_shared_node()
    {
        var doc = Read("a: &x {k: v}\nb: *x\n")[0];
        doc["b"]!["k"] = "changed";

        Assert.Equal("v", doc["a"]!["k"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("a: 1\na: 2\n", "duplicate key 'a'")]
    [InlineData("- 1\n- 2\n", "not a mapping")]
    [InlineData("just text\n", "not a mapping")]
    [InlineData("a: [1, 2\n", "invalid YAML at line")]
    [InlineData("a: *missing\n", "refers to no complete anchor")]
    [InlineData("? [complex]\n: key\n", "mapping keys must be scalars")]
    [InlineData("a: .inf\n", "no JSON representation")]
    public void Invalid_manifests_are_refused_with_a_reason(string yaml, string reason) =>
        Assert.Contains(reason, Assert.Throws<ManifestException>(() => Read(yaml)).Message, StringComparison.Ordinal);

    [Fact]
    public void Limits_on_bytes_and_documents_are_enforced()
    {
        Assert.Contains("more than the limit", Assert.Throws<ManifestException>(() => Read(new string('#', 2000), Limits with { MaxBytes = 1000 })).Message, StringComparison.Ordinal);
        Assert.Contains("more than 2 documents", Assert.Throws<ManifestException>(() => Read("a: 1\n---\nb: 2\n---\nc: 3\n", Limits with { MaxDocuments = 2 })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_is_refused() =>
        Assert.Throws<ManifestException>(() => ManifestReader.Read(new byte[] { 0x61, 0x3a, 0x20, 0xff, 0xfe }, Limits));
}

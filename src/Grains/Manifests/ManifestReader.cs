using System.Text.Json.Nodes;
using System.Text;
using CiTrigger.Grains.Pipeline;
using YamlDotNet.Core.Events;
using YamlDotNet.Core;

namespace CiTrigger.Grains.Manifests;

/// <summary>
/// Reads a (multi-document) YAML manifest into JSON objects under <see cref="ManifestLimits"/>. It walks
/// YamlDotNet's event stream with an explicit stack, so nesting never recurses, and it charges every
/// alias with the full size of what it expands to before expanding it: a "billion laughs" file is
/// refused after a few hundred events instead of growing to gigabytes.
/// </summary>
public static class ManifestReader
{
    private const string MergeKey = "<<";

    public static IReadOnlyList<JsonObject> Read(ReadOnlySpan<byte> yaml, ManifestLimits limits)
    {
        if (yaml.Length > limits.MaxBytes)
        {
            throw new ManifestException($"the manifest has {yaml.Length} bytes, more than the limit of {limits.MaxBytes}");
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(yaml);
        }
        catch (DecoderFallbackException)
        {
            throw new ManifestException("the manifest is not valid UTF-8");
        }

        return Read(text, limits);
    }

    public static IReadOnlyList<JsonObject> Read(string yaml, ManifestLimits limits)
    {
        try
        {
            return new Walker(limits).Run(new Parser(new StringReader(yaml)));
        }
        catch (YamlException e)
        {
            throw new ManifestException($"invalid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}");
        }
    }

    private sealed class Walker(ManifestLimits limits)
    {
        private readonly Dictionary<string, (JsonNode? Node, long Size)> anchors = new(StringComparer.Ordinal);
        private readonly Stack<Frame> stack = new();
        private readonly List<JsonObject> documents = [];
        private long nodes;
        private int documentIndex;
        private JsonNode? root;
        private bool rootSet;

        public List<JsonObject> Run(Parser parser)
        {
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case DocumentStart:
                        anchors.Clear();
                        root = null;
                        rootSet = false;
                        documentIndex++;
                        break;
                    case DocumentEnd:
                        EndDocument();
                        break;
                    case Scalar scalar:
                        AddNode(scalar, ResolveScalar(scalar), 1);
                        break;
                    case AnchorAlias alias:
                        AddAlias(alias);
                        break;
                    case MappingStart start:
                        Open(new Frame(start, new JsonObject(), nodes));
                        break;
                    case SequenceStart start:
                        Open(new Frame(start, new JsonArray(), nodes));
                        break;
                    case MappingEnd or SequenceEnd:
                        Close();
                        break;
                }
            }

            return documents;
        }

        private void EndDocument()
        {
            if (!rootSet || root is null)
            {
                return;
            }

            if (root is not JsonObject obj)
            {
                throw new ManifestException($"document {documentIndex} is not a mapping, so it is not a Kubernetes object");
            }

            if (documents.Count == limits.MaxDocuments)
            {
                throw new ManifestException($"the manifest has more than {limits.MaxDocuments} documents");
            }

            documents.Add(obj);
        }

        private void Open(Frame frame)
        {
            if (stack.Count >= limits.MaxDepth)
            {
                throw At(frame.Start.Start, $"nesting deeper than {limits.MaxDepth} levels");
            }

            Charge(1, frame.Start.Start);
            stack.Push(frame);
        }

        private void Close()
        {
            var frame = stack.Pop();
            if (frame.Node is JsonObject obj)
            {
                ApplyMerges(frame, obj);
            }

            AddNode(frame.Start, frame.Node, nodes - frame.NodesBefore, charge: false);
        }

        private void AddAlias(AnchorAlias alias)
        {
            if (!anchors.TryGetValue(alias.Value.Value, out var anchored))
            {
                throw At(alias.Start, $"alias *{alias.Value.Value} refers to no complete anchor");
            }

            // The whole expansion is paid for before any of it is built.
            Charge(anchored.Size, alias.Start);
            var mergeSource = stack.TryPeek(out var parent) && parent.PendingMerge;
            AddValue(mergeSource ? anchored.Node : anchored.Node?.DeepClone(), alias.Start);
        }

        private void AddNode(NodeEvent ev, JsonNode? node, long size, bool charge = true)
        {
            if (charge)
            {
                Charge(size, ev.Start);
            }

            if (!ev.Anchor.IsEmpty)
            {
                anchors[ev.Anchor.Value] = (node, size);
            }

            AddValue(node, ev.Start, ev as Scalar);
        }

        private void AddValue(JsonNode? node, Mark at, Scalar? scalar = null)
        {
            if (stack.Count == 0)
            {
                root = node;
                rootSet = true;
                return;
            }

            var frame = stack.Peek();
            if (frame.Node is JsonArray array)
            {
                array.Add(node);
                return;
            }

            if (frame.Key is null)
            {
                if (scalar is null)
                {
                    throw At(at, "mapping keys must be scalars");
                }

                if (scalar.Style == ScalarStyle.Plain && scalar.Value == MergeKey && scalar.Tag.IsEmpty)
                {
                    frame.PendingMerge = true;
                    frame.Key = MergeKey;
                    return;
                }

                frame.Key = scalar.Value;
                if (!frame.Keys.Add(scalar.Value))
                {
                    throw At(at, $"duplicate key '{Shorten(scalar.Value)}'");
                }

                return;
            }

            if (frame.PendingMerge)
            {
                frame.MergeSources.Add((node, at));
                frame.PendingMerge = false;
            }
            else
            {
                ((JsonObject)frame.Node)[frame.Key] = node;
            }

            frame.Key = null;
        }

        // YAML merge keys: explicit keys win, then earlier sources over later ones.
        private static void ApplyMerges(Frame frame, JsonObject target)
        {
            foreach (var (source, at) in frame.MergeSources)
            {
                IEnumerable<JsonNode?> maps = source is JsonArray list ? list : new[] { source };
                foreach (var map in maps)
                {
                    if (map is not JsonObject obj)
                    {
                        throw At(at, "a merge key (<<) needs a mapping or a list of mappings");
                    }

                    foreach (var (key, value) in obj)
                    {
                        if (!target.ContainsKey(key))
                        {
                            target[key] = value?.DeepClone();
                        }
                    }
                }
            }
        }

        private void Charge(long size, Mark at)
        {
            nodes += size;
            if (nodes > limits.MaxNodes)
            {
                throw At(at, $"more than {limits.MaxNodes} nodes (alias expansions counted)");
            }
        }

        private static JsonNode? ResolveScalar(Scalar scalar)
        {
            var tag = scalar.Tag;
            if (tag.IsEmpty)
            {
                return scalar.Style == ScalarStyle.Plain
                    ? ScalarResolver.ResolvePlain(scalar.Value)
                    : JsonValue.Create(scalar.Value);
            }

            return tag.Value switch
            {
                "!" or "tag:yaml.org,2002:str" or "tag:yaml.org,2002:binary" or "tag:yaml.org,2002:timestamp" => JsonValue.Create(scalar.Value),
                "tag:yaml.org,2002:null" => null,
                "tag:yaml.org,2002:bool" => ScalarResolver.ResolvePlain(scalar.Value) is JsonValue b && b.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False
                    ? b
                    : throw At(scalar.Start, $"'{Shorten(scalar.Value)}' is not a boolean"),
                "tag:yaml.org,2002:int" or "tag:yaml.org,2002:float" => ScalarResolver.TryNumber(scalar.Value)
                    ?? throw At(scalar.Start, $"'{Shorten(scalar.Value)}' is not a number"),
                _ => throw At(scalar.Start, $"unsupported tag {tag.Value}"),
            };
        }

        private static string Shorten(string value) => value.Length <= 60 ? value : value[..60] + "…";

        private static ManifestException At(Mark mark, string message) =>
            new($"line {mark.Line}, column {mark.Column}: {message}");

        private sealed class Frame(NodeEvent start, JsonNode node, long nodesBefore)
        {
            public NodeEvent Start { get; } = start;

            public JsonNode Node { get; } = node;

            public long NodesBefore { get; } = nodesBefore;

            public string? Key { get; set; }

            public bool PendingMerge { get; set; }

            public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);

            public List<(JsonNode? Source, Mark At)> MergeSources { get; } = [];
        }
    }
}

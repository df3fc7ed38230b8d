using System.Text.Json;
using System.Text.Json.Serialization;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Storage;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(RefSummary))]
[JsonSerializable(typeof(EventSummary))]
internal sealed partial class CatalogJson : JsonSerializerContext;

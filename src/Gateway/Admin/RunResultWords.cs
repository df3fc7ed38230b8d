using System.Text.Json;
using System.Text.Json.Serialization;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Gateway.Admin;

/// <summary>
/// A run's result in the admin API as the check-run conclusion word (<c>timed_out</c>, not the enum's
/// camelCase <c>timedOut</c>), the same word GitHub shows. Registered before the general enum converter.
/// </summary>
public sealed class RunResultWords : JsonConverter<RunResult>
{
    private static readonly RunResult[] Results = Enum.GetValues<RunResult>();

    public override RunResult Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var word = reader.GetString();
        foreach (var result in Results)
        {
            if (RunResults.Word(result) == word)
            {
                return result;
            }
        }

        throw new JsonException($"'{word}' is not a run result: one of {string.Join(", ", Results.Select(RunResults.Word))}");
    }

    public override void Write(Utf8JsonWriter writer, RunResult value, JsonSerializerOptions options) => writer.WriteStringValue(RunResults.Word(value));
}

using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace CiTrigger.Gateway.Admin;

public static class AdminResults
{
    /// <summary>
    /// camelCase names, enums as strings: the field names the README documents. The answers are
    /// <c>application/json</c>, never HTML, so characters stay as written (<c>'prod'</c>, not <c>\u0027prod\u0027</c>).
    /// </summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static IResult Ok(object value) => Results.Json(value, Json);

    public static IResult Problem(int status, string error) => Results.Json(new { error }, Json, statusCode: status);
}

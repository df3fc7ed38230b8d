using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace CiTrigger.Tests.EndToEnd;

/// <summary>Admin route parameters go through the same name checks as payloads, over real HTTP.</summary>
[Collection(SharedService.Name)]
public class AdminNameTests(ServiceFixture fixture)
{
    [Theory]
    [InlineData("GET", "/admin/repos/octo/app%0A/refs/heads/main")]
    [InlineData("GET", "/admin/repos/octo/app%0D%0A/refs/heads/main")]
    [InlineData("GET", "/admin/repos/octo/app/refs/heads/main%0A")]
    [InlineData("GET", "/admin/repos/octo/app/refs/heads/txt.%E2%80%AEexe")]
    [InlineData("GET", "/admin/repos/octo/app/refs/heads/ma%E2%80%8Bin")]
    [InlineData("GET", "/admin/repos/octo/app/refs/heads/%EF%BB%BFmain")]
    [InlineData("GET", "/admin/repos/octo/app/refs/heads/next%C2%85line")]
    [InlineData("POST", "/admin/repos/octo/app/refs/heads/txt.%E2%80%AEexe/pause")]
    [InlineData("POST", "/admin/repos/octo/app%0A/refs/heads/main/pause")]
    [InlineData("GET", "/admin/repos/octo/app%0A")]
    [InlineData("POST", "/admin/repos/octo/app%0A/pause")]
    [InlineData("GET", "/admin/deliveries/d-1%0A")]
    [InlineData("GET", "/admin/deliveries/d-%E2%80%8B1")]
    [InlineData("GET", "/admin/refs?repo=octo/app%0A")]
    public async Task A_route_name_with_a_newline_or_a_hidden_character_is_answered_400(string method, string path)
    {
        using var response = await fixture.Service.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(string.IsNullOrEmpty((await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_escape_that_is_not_UTF8_in_a_route_stays_literal_text_and_names_an_unknown_ref()
    {
        // Kestrel leaves an escape it cannot decode as UTF-8 as it was: the ref is literally "%ED%A0%80",
        // a name git allows, not half of a surrogate pair.
        using var response = await fixture.Service.Client.GetAsync("/admin/repos/octo/app/refs/heads/%ED%A0%80");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("refs/heads/%ED%A0%80", (await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}

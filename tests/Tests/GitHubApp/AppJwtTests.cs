using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Grains.GitHub;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace CiTrigger.Tests.GitHubApp;

public class AppJwtTests
{
    private static readonly DateTimeOffset Now = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void The_jwt_is_signed_rs256_with_the_app_key_names_the_app_and_keeps_to_githubs_time_limits()
    {
        using var key = RSA.Create(2048);
        var time = new FakeTimeProvider(Now);

        var parts = new GitHubAppJwt(4242, key, time).Current().Split('.');

        var header = JsonNode.Parse(Base64Url.DecodeFromChars(parts[0]))!.AsObject();
        var claims = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!.AsObject();
        Assert.Equal("RS256", header["alg"]!.GetValue<string>());
        Assert.True(key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        Assert.Equal(["exp", "iat", "iss"], claims.Select(c => c.Key).Order(StringComparer.Ordinal));
        Assert.Equal(4242, claims["iss"]!.GetValue<long>());
        var (iat, exp) = (claims["iat"]!.GetValue<long>(), claims["exp"]!.GetValue<long>());
        Assert.Equal(Now.ToUnixTimeSeconds() - 60, iat);
        Assert.True(exp - Now.ToUnixTimeSeconds() <= 600, "exp at most 10 minutes ahead");
        Assert.True(exp - iat <= 660, "exp - iat at most 11 minutes");
        Assert.True(exp - Now.ToUnixTimeSeconds() >= 300, "valid long enough to be reused");
    }

    [Fact]
    public void A_jwt_is_reused_while_it_has_two_minutes_left_and_then_replaced()
    {
        using var key = RSA.Create(2048);
        var time = new FakeTimeProvider(Now);
        var jwt = new GitHubAppJwt(4242, key, time);
        var first = jwt.Current();

        time.Advance(TimeSpan.FromMinutes(7) - TimeSpan.FromSeconds(1));
        Assert.Equal(first, jwt.Current());

        time.Advance(TimeSpan.FromSeconds(2));
        var second = jwt.Current();
        Assert.NotEqual(first, second);
        var claims = JsonNode.Parse(Base64Url.DecodeFromChars(second.Split('.')[1]))!.AsObject();
        Assert.Equal(time.GetUtcNow().ToUnixTimeSeconds() - 60, claims["iat"]!.GetValue<long>());
    }
}

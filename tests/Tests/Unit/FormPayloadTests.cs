using System.Text;
using CiTrigger.Gateway.Forges.GitHub;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class FormPayloadTests
{
    private static byte[]? Read(string body) => FormPayload.Read(Encoding.ASCII.GetBytes(body));

    [Theory]
    [InlineData("payload=%7B%22a%22%3A%22b+c%22%7D", "{\"a\":\"b c\"}")]
    [InlineData("other=1&payload=%7B%7D&more=2", "{}")]
    [InlineData("pay%6Coad=%7B%7D", "{}")]
    [InlineData("payload=", "")]
    public void The_payload_field_is_percent_decoded_to_bytes(string body, string json) =>
        Assert.Equal(json, Encoding.UTF8.GetString(Read(body)!));

    [Theory]
    [InlineData("")]
    [InlineData("other=%7B%7D")]
    [InlineData("payload=%7B%7D&payload=%7B%7D")]
    [InlineData("payloads=%7B%7D")]
    public void A_body_without_exactly_one_payload_field_has_none(string body) => Assert.Null(Read(body));

    [Fact]
    public void An_escape_that_is_not_UTF8_stays_a_byte_for_the_UTF8_check_to_refuse() =>
        Assert.Equal(new byte[] { (byte)'a', 0xED, 0xA0, 0x80 }, Read("payload=a%ED%A0%80"));
}

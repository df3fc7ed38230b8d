using System.Text;
using CiTrigger.Gateway.Forges;
using CiTrigger.Gateway.Forges.GitHub;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class GitHubSignatureTests
{
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("Hello, World!");
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("It's a Secret to Everybody");
    private const string Documented = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    [Fact]
    public void GitHubs_documented_test_vector_verifies() =>
        Assert.Equal(SignatureCheck.Valid, GitHubSignature.Verify(Body, Documented, [Secret]).Check);

    [Fact]
    public void Signing_reproduces_the_documented_header() =>
        Assert.Equal(Documented, GitHubSignature.Sign(Body, Secret));

    [Fact]
    public void Any_of_several_secrets_verifies_during_a_rotation() =>
        Assert.Equal(SignatureCheck.Valid, GitHubSignature.Verify(Body, Documented, [Encoding.UTF8.GetBytes("new secret"), Secret]).Check);

    [Fact]
    public void A_changed_body_does_not_verify() =>
        Assert.Equal(SignatureCheck.Mismatch, GitHubSignature.Verify(Encoding.UTF8.GetBytes("Hello, World?"), Documented, [Secret]).Check);

    [Fact]
    public void A_wrong_secret_does_not_verify() =>
        Assert.Equal(SignatureCheck.Mismatch, GitHubSignature.Verify(Body, Documented, [Encoding.UTF8.GetBytes("guess")]).Check);

    [Theory]
    [InlineData(null, SignatureCheck.Missing)]
    [InlineData("", SignatureCheck.Missing)]
    [InlineData("sha1=0a4d55a8d778e5022fab701977c5d840bbc486d0", SignatureCheck.Malformed)]
    [InlineData("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1", SignatureCheck.Malformed)]
    [InlineData("sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", SignatureCheck.Malformed)]
    [InlineData("SHA256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", SignatureCheck.Malformed)]
    public void Headers_that_are_not_a_sha256_signature_are_refused(string? header, SignatureCheck expected) =>
        Assert.Equal(expected, GitHubSignature.Verify(Body, header, [Secret]).Check);

    [Theory]
    [InlineData(null, "missing X-Hub-Signature-256 (the SHA-1 X-Hub-Signature alone is not accepted)")]
    [InlineData("sha1=0a4d55a8d778e5022fab701977c5d840bbc486d0", "X-Hub-Signature-256 is not of the form sha256=<64 hex digits>")]
    [InlineData("sha256=0000000000000000000000000000000000000000000000000000000000000000", "X-Hub-Signature-256 does not match the body for any configured secret")]
    public void A_refused_signature_says_why_in_githubs_words(string? header, string reason) =>
        Assert.Equal(reason, GitHubSignature.Verify(Body, header, [Secret]).Reason);
}

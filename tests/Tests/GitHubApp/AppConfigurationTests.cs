using System.Security.Cryptography;
using CiTrigger.Grains.GitHub;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.GitHubApp;

public class AppConfigurationTests
{
    [Fact]
    public void An_app_id_without_a_key_is_refused_naming_the_key()
    {
        var problems = new GitHubAppOptions { AppId = "12" }.Validate().ToList();

        Assert.Equal(["GitHub:PrivateKey: GitHub:AppId is set, but neither GitHub:PrivateKey nor GitHub:PrivateKeyPath is"], problems);
    }

    [Fact]
    public void A_key_that_is_not_a_pem_rsa_private_key_is_refused_naming_the_key()
    {
        using var rsa = RSA.Create(2048);

        Assert.StartsWith("GitHub:PrivateKey: not a PEM RSA private key", Assert.Single(new GitHubAppOptions { AppId = "12", PrivateKey = "not a key" }.Validate()), StringComparison.Ordinal);
        Assert.StartsWith("GitHub:PrivateKey: not a PEM RSA private key", Assert.Single(new GitHubAppOptions { AppId = "12", PrivateKey = rsa.ExportSubjectPublicKeyInfoPem() }.Validate()), StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_file_that_cannot_be_read_or_parsed_is_refused_naming_the_path()
    {
        var directory = Directory.CreateTempSubdirectory("citrigger-key-").FullName;
        var missing = Path.Combine(directory, "missing.pem");
        var garbage = Path.Combine(directory, "garbage.pem");
        File.WriteAllText(garbage, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");

        Assert.StartsWith($"GitHub:PrivateKeyPath: '{missing}' cannot be read", Assert.Single(new GitHubAppOptions { AppId = "12", PrivateKeyPath = missing }.Validate()), StringComparison.Ordinal);
        Assert.StartsWith($"GitHub:PrivateKeyPath: '{garbage}' does not hold a PEM RSA private key", Assert.Single(new GitHubAppOptions { AppId = "12", PrivateKeyPath = garbage }.Validate()), StringComparison.Ordinal);
    }

    [Fact]
    public void Pkcs1_and_pkcs8_keys_by_value_or_file_and_a_key_with_escaped_line_breaks_are_accepted()
    {
        using var rsa = RSA.Create(2048);
        var file = Path.Combine(Directory.CreateTempSubdirectory("citrigger-key-").FullName, "app.pem");
        File.WriteAllText(file, rsa.ExportPkcs8PrivateKeyPem());

        Assert.Empty(new GitHubAppOptions { AppId = "12", PrivateKey = rsa.ExportRSAPrivateKeyPem() }.Validate());
        Assert.Empty(new GitHubAppOptions { AppId = "12", PrivateKeyPath = file }.Validate());
        Assert.Empty(new GitHubAppOptions { AppId = "12", PrivateKey = rsa.ExportRSAPrivateKeyPem().Replace("\n", "\\n", StringComparison.Ordinal) }.Validate());
    }

    [Fact]
    public void A_key_without_an_app_id_and_an_app_id_that_is_no_number_are_refused()
    {
        Assert.Equal(["GitHub:AppId: required with GitHub:PrivateKeyPath (the App's id from its settings page)"], new GitHubAppOptions { PrivateKeyPath = "/x.pem" }.Validate());
        Assert.Contains("GitHub:AppId: 'my-app' is not an App id (a positive number)", new GitHubAppOptions { AppId = "my-app", PrivateKeyPath = "/x.pem" }.Validate());
    }

    [Fact]
    public void Run_credentials_are_on_by_default_with_an_app_and_refused_without_one()
    {
        Assert.True(new RunCredentialOptions().Enabled(isApp: true));
        Assert.False(new RunCredentialOptions().Enabled(isApp: false));
        Assert.False(new RunCredentialOptions { RunCredentials = false }.Enabled(isApp: true));
        Assert.Empty(new RunCredentialOptions { RunCredentials = true }.Validate(isApp: true));
        Assert.Empty(new RunCredentialOptions { RunCredentials = false }.Validate(isApp: false));
        Assert.Equal(["Handler:RunCredentials: needs a GitHub App (GitHub:AppId): a token of one repository that can only read it is an App's installation token"],
            new RunCredentialOptions { RunCredentials = true }.Validate(isApp: false));
    }

    [Fact]
    public async Task The_service_does_not_start_with_an_app_id_and_no_key_and_says_so_in_one_line()
    {
        var directory = Directory.CreateTempSubdirectory("citrigger-startup-").FullName;

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => SiloProcess.StartAsync(new Dictionary<string, string>
        {
            ["Webhook:Secrets"] = TriggerHost.Secret,
            ["GitHub:AppId"] = "12",
            ["Kubernetes:DryRun"] = "true",
            ["Orleans:DataPath"] = directory,
            ["Orleans:SiloPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
        }));

        Assert.Contains("exited with 2", failure.Message, StringComparison.Ordinal);
        Assert.Contains("configuration error: GitHub:PrivateKey: GitHub:AppId is set, but neither GitHub:PrivateKey nor GitHub:PrivateKeyPath is", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", failure.Message, StringComparison.Ordinal);
    }
}

using CiTrigger.Grains.Kubernetes;
using k8s.Exceptions;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class KubernetesConnectionTests
{
    private static string Write(string users, string contextUser)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("citrigger-kubeconfig-").FullName, "config");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: proxy
              cluster:
                server: http://127.0.0.1:8001
            {users}
            contexts:
            - name: proxy
              context:
                cluster: proxy
                {contextUser}
            current-context: proxy
            """);
        return path;
    }

    [Theory]
    [InlineData("users:\n- name: proxy\n  user: {}", "user: proxy")]
    [InlineData("users:\n- name: proxy\n  user:\n    username: \"\"", "user: proxy")]
    [InlineData("users: []", "namespace: ci")]
    public void A_kubeconfig_whose_user_has_no_credentials_is_loaded_as_anonymous_access(string users, string contextUser)
    {
        var path = Write(users, contextUser);

        var config = KubernetesConnection.TryLoad(path, homeDirectory: null, out var source);

        Assert.NotNull(config);
        Assert.Equal("http://127.0.0.1:8001/", new Uri(config.Host).ToString());
        Assert.Null(config.AccessToken);
        Assert.Null(config.TokenProvider);
        Assert.Contains("without credentials", source, StringComparison.Ordinal);
    }

    [Fact]
    public void A_kubeconfig_with_a_token_keeps_it()
    {
        var path = Write("users:\n- name: ci\n  user:\n    token: abc", "user: ci");

        var config = KubernetesConnection.TryLoad(path, homeDirectory: null, out var source);

        Assert.Equal("abc", config!.AccessToken);
        Assert.Equal(path, source);
    }

    [Fact]
    public void A_context_naming_a_user_the_file_lacks_is_still_refused()
    {
        var path = Write("users: []", "user: ghost");

        var error = Assert.Throws<KubeConfigException>(() => KubernetesConnection.TryLoad(path, homeDirectory: null, out _));

        Assert.Contains("User not found", error.Message, StringComparison.Ordinal);
    }
}

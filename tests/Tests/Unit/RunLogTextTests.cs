using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Pipeline;
using k8s.Models;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class RunLogTextTests
{
    [Theory]
    [InlineData("token ghp_0123456789abcdefghijABCD end", "token *** end")]
    [InlineData("ghs_0123456789abcdefghijABCDxyz", "***")]
    [InlineData("gho_0123456789abcdefghij ghu_0123456789abcdefghij ghr_0123456789abcdefghij", "*** *** ***")]
    [InlineData("pat github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "pat ***")]
    [InlineData("ghx_0123456789abcdefghijABCD ghp_short", "ghx_0123456789abcdefghijABCD ghp_short")]
    public void Token_shaped_strings_are_masked(string line, string shown) =>
        Assert.Equal(shown, RunLogText.Masked(line, []));

    [Fact]
    public void Secret_values_are_masked_whole_and_line_by_line_longest_first_and_short_ones_are_left()
    {
        var log = "key=hunter22 and hunter22-extended\n-----\nline two of pem\nx=ab\nline one of pem\nline two of pem";
        var shown = RunLogText.Masked(log, ["hunter22", "hunter22-extended", "line one of pem\nline two of pem", "ab"]);

        Assert.Equal("key=*** and ***\n-----\n***\nx=ab\n***", shown);
    }

    [Fact]
    public void The_tail_keeps_the_last_50_lines_and_at_most_64_KiB()
    {
        var log = string.Join('\n', Enumerable.Range(1, 80).Select(i => $"line {i}")) + "\n";
        var tail = RunLogText.Tail(log);
        Assert.Equal(Enumerable.Range(31, 50).Select(i => $"line {i}"), tail.Split('\n'));

        var long_ = RunLogText.Tail(new string('a', 100_000) + "\nlast");
        Assert.Equal(RunLogText.MaxBytes, long_.Length);
        Assert.EndsWith("\nlast", long_, StringComparison.Ordinal);
    }

    [Fact]
    public void No_log_line_can_close_the_code_fence_and_the_text_fits_the_room_given()
    {
        var text = RunLogText.Markdown(new RunLog("pod-1", "main", "ok\n````\n# heading\n[link](https://evil)"), 65_535);
        var fence = text.Split('\n')[2];

        Assert.Equal("`````", fence);
        Assert.EndsWith("\n`````\n", text, StringComparison.Ordinal);

        var cut = RunLogText.Markdown(new RunLog("pod-1", "main", new string('x', 2000) + "END"), 500);
        Assert.True(cut.Length <= 500, $"{cut.Length} characters");
        Assert.Contains("…", cut, StringComparison.Ordinal);
        Assert.Contains("xEND\n```\n", cut, StringComparison.Ordinal);
    }

    [Fact]
    public void Names_from_the_cluster_cannot_leave_their_backticks_and_a_withheld_log_says_why()
    {
        var text = RunLogText.Markdown(new RunLog("pod`\n# x", "main", null, "Secret s could not be read"), 65_535);

        Assert.Equal("The last lines of the log of pod `pod' # x`, container `main`: not shown: Secret s could not be read", text);
    }

    [Fact]
    public void The_secrets_of_a_pod_are_those_of_env_envFrom_and_volumes_of_every_container()
    {
        var spec = new V1PodSpec
        {
            InitContainers = [new V1Container { Name = "init", EnvFrom = [new V1EnvFromSource { SecretRef = new V1SecretEnvSource { Name = "from-init" } }] }],
            Containers =
            [
                new V1Container
                {
                    Name = "main",
                    Env =
                    [
                        new V1EnvVar { Name = "A", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = "env", Key = "k" } } },
                        new V1EnvVar { Name = "B", ValueFrom = new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = "not-a-secret", Key = "k" } } },
                        new V1EnvVar { Name = "C", Value = "plain" },
                    ],
                },
            ],
            Volumes =
            [
                new V1Volume { Name = "v", Secret = new V1SecretVolumeSource { SecretName = "volume" } },
                new V1Volume { Name = "p", Projected = new V1ProjectedVolumeSource { Sources = [new V1VolumeProjection { Secret = new V1SecretProjection { Name = "projected" } }] } },
                new V1Volume { Name = "again", Secret = new V1SecretVolumeSource { SecretName = "env" } },
            ],
        };

        Assert.Equal(["from-init", "env", "volume", "projected"], KubernetesRunLogs.SecretsOf(spec));
    }
}

using System.Diagnostics;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Support;
using k8s;

namespace CiTrigger.Tests.RealNode;

/// <summary>
/// The single-node cluster of <c>tests/kube/cluster.sh</c>: the one test.sh started (its admin kubeconfig in
/// <see cref="KubeConfigVariable"/>), or, when the tests run without test.sh, one this process starts with
/// <c>cluster.sh up --owner</c> (so its watchdog removes it even if this process is killed) and removes with
/// <c>cluster.sh down</c>.
/// </summary>
public sealed class LocalNode : IAsyncDisposable
{
    /// <summary>Set by test.sh to the kubeconfig <c>cluster.sh up</c> printed.</summary>
    public const string KubeConfigVariable = "CITRIGGER_NODE_KUBECONFIG";

    /// <summary>The node's address on its bridge: the API server, DNS, and where pods reach this machine.</summary>
    public const string HostAddress = "10.244.0.1";

    public const string NodeName = "citrigger-node";

    private readonly bool owned;

    private LocalNode(string kubeConfig, bool owned)
    {
        KubeConfig = kubeConfig;
        this.owned = owned;
        KubectlCache = Directory.CreateTempSubdirectory("citrigger-kubectl-").FullName;
        Admin = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeConfig));
    }

    public string KubeConfig { get; }

    /// <summary>A client in group system:masters.</summary>
    public IKubernetes Admin { get; }

    /// <summary>The kubectl discovery cache of these tests, so that nothing is left in ~/.kube.</summary>
    private string KubectlCache { get; }

    private static string Script => Path.Combine(RepositoryFiles.Root, "tests", "kube", "cluster.sh");

    public static async Task<LocalNode> StartAsync()
    {
        if (Environment.GetEnvironmentVariable(KubeConfigVariable) is { Length: > 0 } given)
        {
            return File.Exists(given)
                ? new LocalNode(given, owned: false)
                : throw new InvalidOperationException($"{KubeConfigVariable} names {given}, which does not exist: is the cluster of tests/kube/cluster.sh up?");
        }

        var (exitCode, output, error) = await RunAsync(Script, ["up", "--owner", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            TimeSpan.FromMinutes(60));
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return exitCode == 0 && lines is [.., var kubeConfig] && File.Exists(kubeConfig)
            ? new LocalNode(kubeConfig, owned: true)
            : throw new InvalidOperationException($"tests/kube/cluster.sh up failed ({exitCode}):\n{Tail(error, 40)}");
    }

    /// <summary>Runs kubectl as the cluster's administrator; throws with its output when it fails, unless <paramref name="check"/> is false.</summary>
    public async Task<(int ExitCode, string Output)> RunKubectlAsync(IEnumerable<string> arguments, bool check = true, TimeSpan? timeout = null)
    {
        var (exitCode, output, error) = await RunAsync("kubectl", [$"--kubeconfig={KubeConfig}", $"--cache-dir={KubectlCache}", .. arguments],
            timeout ?? TimeSpan.FromMinutes(3));
        return exitCode != 0 && check
            ? throw new InvalidOperationException($"kubectl {string.Join(' ', arguments)} failed ({exitCode}):\n{output}\n{error}")
            : (exitCode, output + error);
    }

    public async Task<string> KubectlAsync(params string[] arguments) => (await RunKubectlAsync(arguments)).Output;

    /// <summary>Objects as JSON (<c>kubectl get -o json</c>), for what the typed client of a newer API version does not model.</summary>
    public async Task<JsonArray> GetAsync(params string[] arguments)
    {
        var output = await KubectlAsync(["get", .. arguments, "-o", "json"]);
        var json = JsonNode.Parse(output)!;
        return json["items"] is JsonArray items ? items : [json.DeepClone()];
    }

    /// <summary>
    /// Processes of this machine in a cgroup whose path has <paramref name="segment"/>: the kubelet's cgroupfs
    /// layout names pods <c>pod{uid}</c> and containers by their id (<c>/kubepods/burstable/pod{uid}/{id}</c>).
    /// </summary>
    public static IReadOnlyList<int> ProcessesIn(string segment) =>
        [.. Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).OfType<string>()
            .Where(d => d.All(char.IsAsciiDigit))
            .Where(pid =>
            {
                try
                {
                    return File.ReadAllText($"/proc/{pid}/cgroup").Contains($"/{segment}", StringComparison.Ordinal);
                }
                catch (IOException)
                {
                    return false;
                }
            })
            .Select(pid => int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture))];

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        Directory.Delete(KubectlCache, recursive: true);
        if (owned)
        {
            await RunAsync(Script, ["down"], TimeSpan.FromMinutes(2));
        }
    }

    private static string Tail(string text, int lines) => string.Join('\n', text.Split('\n').TakeLast(lines));

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string file, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} could not be started");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within {timeout}");
        }

        return (process.ExitCode, await output, await error);
    }
}

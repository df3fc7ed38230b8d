using System.Diagnostics;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Manifests;

namespace CiTrigger.Tests.Support;

/// <summary>Files of the repository itself (k8s/, tests/kube/), found from the test output directory.</summary>
public static class RepositoryFiles
{
    public static string Root
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Orleans.sln")))
            {
                directory = directory.Parent;
            }

            return directory?.FullName ?? throw new InvalidOperationException("Orleans.sln not found above the test output");
        }
    }

    /// <summary>A kustomize directory rendered with <c>kubectl kustomize</c>, as a user would render it.</summary>
    public static IReadOnlyList<JsonObject> Kustomize(string relativeDirectory)
    {
        var directory = Path.Combine(Root, relativeDirectory);
        var start = new ProcessStartInfo("kubectl", ["kustomize", directory]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("kubectl could not be started");
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0
            ? ManifestReader.Read(output, ManifestLimits.Default)
            : throw new InvalidOperationException($"kubectl kustomize {directory} failed: {error}");
    }
}

using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;

namespace CiTrigger.Silo.Cli;

/// <summary>
/// Checks a local manifest against the limits and policy the service enforces, configured with the same
/// keys (<c>--Handler:Namespace=ci</c>, environment variables, appsettings.json), and says exactly what
/// would be refused. Without a cluster, scope is known only for the built-in cluster-scoped kinds.
/// </summary>
public static class ValidateCommand
{
    private static readonly HashSet<string> ClusterScopedKinds =
    [
        "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
        "StorageClass", "PriorityClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
        "APIService", "CSIDriver", "CSINode", "IngressClass", "RuntimeClass", "VolumeAttachment",
        "ClusterWorkflowTemplate",
    ];

    public static readonly IReadOnlyList<CommandOption> Options =
    [
        new("file", "MANIFEST.yaml", "the manifest to check", Required: true),
    ];

    public static async Task<int> RunAsync(CommandArgs args, TextWriter output, TextWriter error)
    {
        var file = args.Required("file");
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine([.. args.Configuration])
            .Build();
        if (ConfigurationValues.Problems(configuration, ManifestOptions.Section, typeof(ManifestOptions)).FirstOrDefault() is { } unreadable)
        {
            await error.WriteLineAsync($"validate: configuration error: {unreadable}");
            return 2;
        }

        var options = configuration.GetSection(ManifestOptions.Section).Get<ManifestOptions>() ?? new ManifestOptions();
        if (options.Validate().FirstOrDefault() is { } invalid)
        {
            await error.WriteLineAsync($"validate: configuration error: {invalid}");
            return 2;
        }

        try
        {
            var documents = ManifestReader.Read(await InputFile.ReadAsync(file, options.MaxManifestBytes, "Handler:MaxManifestBytes"), options.Limits);
            if (documents.Count == 0)
            {
                throw new ManifestException("the file holds no documents");
            }

            var policy = new ManifestPolicy(options);
            for (var i = 0; i < documents.Count; i++)
            {
                var kind = documents[i]["kind"]?.ToString() ?? "";
                var target = policy.Check(documents[i], i, namespaced: !ClusterScopedKinds.Contains(kind));
                await output.WriteLineAsync($"document {i}: {target.ApiVersion} {target.Kind} " +
                    $"{(target.Namespace is null ? "" : target.Namespace + "/")}{target.Name ?? target.GenerateName + "*"}: " +
                    (target.Name is null ? "would be created" : "would be server-side applied"));
            }

            await output.WriteLineAsync($"ok: {documents.Count} document(s) would be accepted");
            return 0;
        }
        catch (Exception e) when (e is ManifestException or IOException)
        {
            await output.WriteLineAsync($"refused: {e.Message}");
            return 1;
        }
    }
}

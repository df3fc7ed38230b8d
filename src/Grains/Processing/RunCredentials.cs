using System.Security.Cryptography;
using System.Text;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// Per-run Git credentials (the design's "Per-run Git credentials"; App mode with <c>Handler:RunCredentials</c>, and a
/// cluster): each applied event's run gets a credential that can only read the event's repository
/// (<see cref="IGitCredentials"/>), in a Secret of the run's namespace (<see cref="IRunSecrets"/>) named after the
/// delivery (<see cref="SecretName"/>), so every attempt at the event means the same Secret and its documents can
/// name it before it exists (<c>{{ git_auth_secret }}</c>, <see cref="ManifestAnnotator.GitAuthSecretAnnotation"/>).
/// An attempt creates it just before its first document is applied, and makes the event's first run object of that
/// namespace its owner once applied, so Kubernetes deletes it with the run should the service not. The ref deletes it
/// (<see cref="Release"/>) when the event's run finished, or at once when the event finished without a run.
/// </summary>
public sealed partial class RunCredentials(
    IGitCredentials credentials, IRunSecrets secrets, IRepositorySettings repositories, IOptions<ManifestOptions> manifests, ILogger<RunCredentials> logger)
{
    public const string SecretPrefix = "git-auth-";

    /// <summary>Whether events get credentials: the forge mints them (App mode, <c>Handler:RunCredentials</c>) and there is a cluster to hold them.</summary>
    public bool Enabled => credentials.Enabled && secrets.Enabled;

    /// <summary>
    /// The Secret of a delivery: <c>git-auth-</c> and 20 hex digits of the SHA-256 of the delivery id, a valid name of
    /// any kind (DNS-1123 label), the same on every attempt.
    /// </summary>
    public static string SecretName(string delivery) =>
        SecretPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(delivery)))[..20];

    /// <summary>
    /// The namespace of the event's run, where its Secret goes: its repository's (a Repository resource), else
    /// <c>Handler:Namespace</c>. Secrets are namespaced: an object of the manifest in another namespace cannot use it.
    /// </summary>
    public string NamespaceOf(HookEvent e) =>
        repositories.Find(RefKey.Repository(e.Forge, e.Repository))?.Namespace ?? manifests.Value.Namespace;

    /// <summary>The event's credentials for one attempt, or null when events get none.</summary>
    public EventCredentials? For(HookEvent e) => Enabled ? new EventCredentials(this, e, NamespaceOf(e), SecretName(e.Delivery)) : null;

    /// <summary>
    /// Deletes the event's Secret (its run finished, or it has none), off the caller's thread: best effort, a failure
    /// is logged and left to Kubernetes' garbage collector (the Secret's owner is the run object). Never throws.
    /// </summary>
    public void Release(HookEvent e)
    {
        if (!Enabled)
        {
            return;
        }

        var (ns, name) = (NamespaceOf(e), SecretName(e.Delivery));
        _ = Task.Run(async () =>
        {
            try
            {
                await secrets.DeleteAsync(ns, name, CancellationToken.None);
                Log.Deleted(logger, ns, name, e.Delivery);
            }
            catch (Exception error)
            {
                Log.DeleteFailed(logger, error, ns, name, e.Delivery);
            }
        });
    }

    internal async Task CreateAsync(HookEvent e, string @namespace, string name, CancellationToken cancellationToken)
    {
        var credential = await credentials.ReadOnlyAsync(e.Forge, e.Repository, e.InstallationId, cancellationToken);
        await secrets.CreateAsync(new RunSecret(@namespace, name, e.Delivery, e.Repository, credential), cancellationToken);
        Log.Created(logger, @namespace, name, e.Delivery, e.Repository, credential.ExpiresAt);
    }

    internal async Task<bool> OwnAsync(HookEvent e, string @namespace, string name, AppliedObject owner, CancellationToken cancellationToken)
    {
        try
        {
            await secrets.SetOwnerAsync(@namespace, name, owner, cancellationToken);
            return true;
        }
        catch (Exception error) when (!cancellationToken.IsCancellationRequested)
        {
            // The run goes on; the service still deletes the Secret when the run finishes.
            Log.OwnerFailed(logger, error, @namespace, name, owner.Kind, owner.Name, e.Delivery);
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(171, LogLevel.Debug, "Secret {Namespace}/{Name} holds the run's read-only Git credential of {Repository} for {Delivery}, until {ExpiresAt}")]
        public static partial void Created(ILogger logger, string @namespace, string name, string delivery, string repository, DateTimeOffset expiresAt);

        [LoggerMessage(172, LogLevel.Warning, "Could not make {Kind} {Owner} the owner of Secret {Namespace}/{Name} of {Delivery}; the service still deletes it when the run finishes")]
        public static partial void OwnerFailed(ILogger logger, Exception error, string @namespace, string name, string kind, string owner, string delivery);

        [LoggerMessage(173, LogLevel.Debug, "Secret {Namespace}/{Name} of {Delivery} deleted: its run is over")]
        public static partial void Deleted(ILogger logger, string @namespace, string name, string delivery);

        [LoggerMessage(174, LogLevel.Warning, "Could not delete Secret {Namespace}/{Name} of {Delivery}; Kubernetes deletes it with its owner, the run object")]
        public static partial void DeleteFailed(ILogger logger, Exception error, string @namespace, string name, string delivery);
    }
}

/// <summary>
/// One attempt's part of an event's per-run credentials (<see cref="RunCredentials"/>): the Secret's
/// <see cref="Name"/> for the documents, created once before the first document is applied, and owned by the first
/// run object the attempt's documents (and earlier attempts') applied in <see cref="Namespace"/>.
/// </summary>
public sealed class EventCredentials
{
    private readonly RunCredentials owner;
    private readonly HookEvent e;
    private Task? creating;
    private bool owned;

    internal EventCredentials(RunCredentials owner, HookEvent e, string @namespace, string name)
    {
        this.owner = owner;
        this.e = e;
        Namespace = @namespace;
        Name = name;
    }

    public string Namespace { get; }

    public string Name { get; }

    /// <summary>
    /// Mints the credential and creates (or, on a later attempt, refreshes) the Secret, once per attempt; every call
    /// after the first waits for the same work and fails with the same error.
    /// </summary>
    public Task CreateAsync(CancellationToken cancellationToken) => creating ??= owner.CreateAsync(e, Namespace, Name, cancellationToken);

    /// <summary>
    /// Once the Secret exists: makes the first run object of <paramref name="applied"/> in the Secret's namespace whose
    /// uid the attempt knows its owner, once. A failure is logged, never thrown (but for the attempt's cancellation).
    /// </summary>
    public async Task OwnAsync(IEnumerable<AppliedObject> applied, CancellationToken cancellationToken)
    {
        if (owned || creating is not { IsCompletedSuccessfully: true })
        {
            return;
        }

        var run = applied.FirstOrDefault(o => RunKinds.Find(o.ApiVersion, o.Kind) is not null && o.Namespace == Namespace && o.Uid is { Length: > 0 });
        if (run is not null)
        {
            owned = await owner.OwnAsync(e, Namespace, Name, run, cancellationToken);
        }
    }
}

using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Pipeline;

/// <summary>
/// An event's per-run credential as the Secret <paramref name="Name"/> in <paramref name="Namespace"/>, of the
/// delivery <paramref name="Delivery"/> of <paramref name="Repository"/>.
/// </summary>
public sealed record RunSecret(string Namespace, string Name, string Delivery, string Repository, GitCredential Credential);

/// <summary>
/// The cluster's side of per-run Git credentials: the Secret a run's pods clone with, created before the event's
/// documents are applied, owned by its first run object once that exists, and deleted when the run is over.
/// </summary>
public interface IRunSecrets
{
    /// <summary>False without a cluster (dry-run): no Secret is made, and no credential minted for one.</summary>
    bool Enabled { get; }

    /// <summary>
    /// Creates the Secret; when an earlier attempt at the same delivery created it already, gives it the new
    /// credential instead (one Secret per delivery, whatever the attempts). Throws <see cref="PermanentException"/>
    /// for a refusal (a Secret of that name that is not the delivery's, a Role without the verb) and
    /// <see cref="TransientException"/> when trying again may help.
    /// </summary>
    Task CreateAsync(RunSecret secret, CancellationToken cancellationToken);

    /// <summary>
    /// Makes <paramref name="owner"/>, a run object of the Secret's namespace whose <see cref="AppliedObject.Uid"/> is
    /// known, the Secret's owner (<c>metadata.ownerReferences</c>), so Kubernetes' garbage collector deletes the Secret
    /// with it. Throws like <see cref="CreateAsync"/>.
    /// </summary>
    Task SetOwnerAsync(string secretNamespace, string secretName, AppliedObject owner, CancellationToken cancellationToken);

    /// <summary>Deletes the Secret; one already gone is no error. Throws like <see cref="CreateAsync"/>.</summary>
    Task DeleteAsync(string secretNamespace, string secretName, CancellationToken cancellationToken);
}

/// <summary>Without a cluster (dry-run): there are no Secrets.</summary>
public sealed class NoRunSecrets : IRunSecrets
{
    public bool Enabled => false;

    public Task CreateAsync(RunSecret secret, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task SetOwnerAsync(string secretNamespace, string secretName, AppliedObject owner, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task DeleteAsync(string secretNamespace, string secretName, CancellationToken cancellationToken) => Task.CompletedTask;
}

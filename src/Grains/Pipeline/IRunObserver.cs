using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Pipeline;

/// <summary>
/// Where the cluster adapter reports what run objects did (implemented by the processing side, which
/// routes each report to the ref the object's event belongs to). Reports may repeat (a re-list, several
/// silos watching): receivers are idempotent.
/// </summary>
public interface IRunObserver
{
    /// <summary>
    /// A run object finished (<see cref="RunObjectState.Result"/> is not <see cref="RunResult.Running"/>), or
    /// was deleted before it finished (<see cref="RunResult.Cancelled"/>).
    /// </summary>
    Task ChangedAsync(RunObjectState state, CancellationToken cancellationToken);

    /// <summary>
    /// A list (at start, and again after a lost or expired watch) of one kind in one namespace finished:
    /// every object there that carries the delivery label, as it is now. A followed object of that kind and
    /// namespace missing from it was deleted while nobody watched.
    /// </summary>
    Task ListedAsync(RunListScope scope, IReadOnlyList<RunObjectState> objects, CancellationToken cancellationToken);
}

/// <summary>The cluster side of run following: whether it happens at all, and stopping a run.</summary>
public interface IRunControl
{
    /// <summary>False without a cluster (dry-run): an applied event is then complete at once, as before.</summary>
    bool Follows { get; }

    /// <summary>
    /// Stops a run object as its kind is stopped (<see cref="Kubernetes.RunKind.Stop"/>: a merge patch, such as
    /// an Argo Workflow's <c>{"spec":{"shutdown":"Terminate"}}</c>, or a DELETE with <c>propagationPolicy=Background</c>).
    /// An object already gone is not an error.
    /// Throws <see cref="TransientException"/> when trying again may help.
    /// </summary>
    Task StopAsync(RunObjectRecord run, CancellationToken cancellationToken);
}

/// <summary>Used without a cluster: nothing is followed, nothing is stopped.</summary>
public sealed class NoRunControl : IRunControl
{
    public bool Follows => false;

    public Task StopAsync(RunObjectRecord run, CancellationToken cancellationToken) => Task.CompletedTask;
}

namespace CiTrigger.Grains.Abstractions;

/// <summary>
/// The end of a failed run's log, as a check shows it: which pod and container it came from, and the text
/// (masked and bounded), or why none is shown.
/// </summary>
public sealed record RunLog(string Pod, string Container, string? Text, string? Withheld = null);

/// <summary>Reads why a run failed from the cluster: the last lines of its failed container's log.</summary>
public interface IRunLogs
{
    /// <summary>
    /// The log of the failed container of <paramref name="run"/> (a Job's failed pod, an Argo Workflow's failed
    /// pod node, a Tekton TaskRun's failed step), or null when it has none or it cannot be read; never throws
    /// but for cancellation.
    /// </summary>
    Task<RunLog?> FailedLogAsync(AppliedObject run, CancellationToken cancellationToken);
}

/// <summary>Without a cluster, or with <c>Handler:LogSnippets=false</c>: no log is read.</summary>
public sealed class NoRunLogs : IRunLogs
{
    public Task<RunLog?> FailedLogAsync(AppliedObject run, CancellationToken cancellationToken) => Task.FromResult<RunLog?>(null);
}

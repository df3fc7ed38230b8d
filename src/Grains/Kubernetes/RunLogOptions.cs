namespace CiTrigger.Grains.Kubernetes;

/// <summary>Whether a failed run's check shows the end of its failed container's log (section <c>Handler</c>).</summary>
public sealed class RunLogOptions
{
    public const string Section = "Handler";

    /// <summary>
    /// Read the last lines of a failed run's container log and show them, masked, in its check; off: the check
    /// says only which object failed and its message, and the Role needs no <c>pods/log</c> or <c>secrets</c>.
    /// </summary>
    public bool LogSnippets { get; set; } = true;
}

namespace CiTrigger.Grains.Processing;

/// <summary>How a ref follows the runs its events created (section <c>Handler</c>).</summary>
public sealed class RunOptions
{
    public const string Section = "Handler";

    /// <summary>How long a run may go on before it is ended as timed out.</summary>
    public TimeSpan RunTimeout { get; set; } = TimeSpan.FromHours(6);

    /// <summary>
    /// Whether an applied event stops the still-running objects of its ref's earlier events, and a branch
    /// <c>delete</c> or a closed pull request every running object of its ref.
    /// </summary>
    public bool CancelSuperseded { get; set; }

    public IEnumerable<string> Validate()
    {
        if (RunTimeout <= TimeSpan.Zero)
        {
            yield return $"{Section}:RunTimeout: must be positive (was {RunTimeout})";
        }
    }
}

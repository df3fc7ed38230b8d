using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Gateway.Admin;

/// <summary>What an operator can do to one ref, by the name both the admin API and the status page use.</summary>
public static class RefActions
{
    public static readonly IReadOnlySet<string> Names = new HashSet<string>(StringComparer.Ordinal) { "retry", "skip", "pause", "resume" };

    /// <summary>Runs the named action on the ref; null when <paramref name="action"/> is not one of <see cref="Names"/>.</summary>
    public static async Task<AdminResult?> RunAsync(IRefGrain grain, string action) => action switch
    {
        "retry" => await grain.RetryHead(),
        "skip" => await grain.SkipHead(),
        "pause" => await grain.SetPaused(true),
        "resume" => await grain.SetPaused(false),
        _ => null,
    };
}

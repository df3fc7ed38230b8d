using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;

namespace CiTrigger.Tests.Support;

/// <summary>The reports a ref's parts make, in order, for unit tests that build them without a silo.</summary>
public sealed class RecordingStatuses : IResultReporter
{
    public List<(string Delivery, StatusState State, string Description)> Reported { get; } = [];

    public void Report(HookEvent hookEvent, StatusState state, string description, IReadOnlyList<AppliedObject>? objects = null) =>
        Reported.Add((hookEvent.Delivery, state, description));
}

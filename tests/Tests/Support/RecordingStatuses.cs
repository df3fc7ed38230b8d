using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;

namespace CiTrigger.Tests.Support;

/// <summary>The reports a ref's parts make, in order, for unit tests that build them without a silo.</summary>
public sealed class RecordingStatuses : IResultReporter
{
    public List<(string Delivery, StatusState State, string Description)> Reported { get; } = [];

    /// <summary>The reports of pipelines (pipeline mode) with the pipeline each was for.</summary>
    public List<(string Delivery, string Pipeline, StatusState State, string Description)> PipelineReports { get; } = [];

    public void Report(HookEvent hookEvent, StatusState state, string description, IReadOnlyList<AppliedObject>? objects = null, string? pipeline = null)
    {
        if (pipeline is null)
        {
            Reported.Add((hookEvent.Delivery, state, description));
        }
        else
        {
            PipelineReports.Add((hookEvent.Delivery, pipeline, state, description));
        }
    }
}

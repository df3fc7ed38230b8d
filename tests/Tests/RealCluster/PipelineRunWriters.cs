using Xunit;

namespace CiTrigger.Tests.RealCluster;

/// <summary>
/// The classes that write PipelineRuns on the shared real cluster run one after the other. The follower's test of a
/// new list after an expired watch changes the PipelineRun CRD, so kube-apiserver v1.20 builds the kind's storage and
/// watch cache again; the old cache is torn down a second or more later and delivers what changes until then. A
/// PipelineRun another test changes in that window reaches the follower from the old cache with a resourceVersion
/// the new cache already holds, and the follower then resumes its watch in the new cache without a 410 (rightly:
/// nothing was missed), so no new list follows and that test cannot see one.
/// </summary>
[CollectionDefinition(Name)]
public sealed class PipelineRunWriters
{
    public const string Name = "PipelineRun writers on the real cluster";
}

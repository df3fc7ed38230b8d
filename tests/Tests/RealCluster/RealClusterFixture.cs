using CiTrigger.Tests.RealCluster;
using Xunit;

[assembly: AssemblyFixture(typeof(RealClusterFixture))]

namespace CiTrigger.Tests.RealCluster;

/// <summary>
/// One real API server per test run, started by the first test that asks for it (a run of the unit tests
/// alone starts nothing) and stopped by PID when the run ends. When it cannot start (no binary, a crash)
/// every test that needs it fails with the reason; none is skipped.
/// </summary>
public sealed class RealClusterFixture : IAsyncDisposable
{
    private readonly Lazy<Task<RealCluster>> cluster = new(RealCluster.StartAsync);

    public Task<RealCluster> GetAsync() => cluster.Value;

    public async ValueTask DisposeAsync()
    {
        if (!cluster.IsValueCreated)
        {
            return;
        }

        // A cluster that never started has already failed the tests that needed it.
        var started = cluster.Value;
        await ((Task)started).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (started.IsCompletedSuccessfully)
        {
            await (await started).DisposeAsync();
        }
    }
}

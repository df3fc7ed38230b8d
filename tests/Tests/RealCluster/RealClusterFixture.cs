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
    private readonly Lock gate = new();
    private Task<RealCluster>? cluster;

    public Task<RealCluster> GetAsync()
    {
        lock (gate)
        {
            return cluster ??= RealCluster.StartAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task<RealCluster>? started;
        lock (gate)
        {
            started = cluster;
        }

        if (started is null)
        {
            return;
        }

        // A cluster that never started has already failed the tests that needed it.
        await ((Task)started).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (started.IsCompletedSuccessfully)
        {
            await (await started).DisposeAsync();
        }
    }
}

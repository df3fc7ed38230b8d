using System.Collections.Concurrent;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;

namespace CiTrigger.Tests.Support;

/// <summary>An <see cref="IRunObserver"/> that keeps what it was told, and can refuse a report on demand.</summary>
public sealed class RecordingRunObserver : IRunObserver
{
    private readonly ConcurrentQueue<RunObjectState> changes = new();
    private readonly ConcurrentQueue<RunObjectState> started = new();
    private readonly ConcurrentQueue<Listing> lists = new();

    public sealed record Listing(string ApiVersion, string Kind, string Namespace, IReadOnlyList<RunObjectState> Objects);

    /// <summary>When set and true for a change, the report fails as a grain call that times out would.</summary>
    public Func<RunObjectState, bool>? Refuse { get; set; }

    /// <summary>When set, a report waits for the task it returns before it is kept (a ref slow to take it).</summary>
    public Func<RunObjectState, Task>? Hold { get; set; }

    public IReadOnlyList<RunObjectState> Changes => [.. changes];

    /// <summary>The reports begun, held or not, in the order they began.</summary>
    public IReadOnlyList<RunObjectState> Started => [.. started];

    public IReadOnlyList<Listing> Lists => [.. lists];

    public IReadOnlyList<Listing> ListsOf(string kind) => [.. lists.Where(l => l.Kind == kind)];

    public async Task ChangedAsync(RunObjectState state, CancellationToken cancellationToken)
    {
        started.Enqueue(state);
        if (Hold?.Invoke(state) is { } held)
        {
            await held.WaitAsync(cancellationToken);
        }

        if (Refuse?.Invoke(state) == true)
        {
            throw new TimeoutException($"refused {state.Kind} {state.Name} on purpose");
        }

        changes.Enqueue(state);
    }

    public Task ListedAsync(RunListScope scope, IReadOnlyList<RunObjectState> objects, CancellationToken cancellationToken)
    {
        lists.Enqueue(new Listing(scope.ApiVersion, scope.Kind, scope.Namespace, objects));
        return Task.CompletedTask;
    }
}

using System.Collections.Concurrent;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Processing;
using CiTrigger.Tests.Support;
using Xunit;
using static CiTrigger.Tests.Support.RefSteps;

namespace CiTrigger.Tests.Unit;

/// <summary>
/// keepRuns as a ref asks for it (RefRuns.Prunes.cs): once a run (in pipeline mode, a pipeline's part) finished, its
/// repository keeping only some, a prune of the ref's objects (of that pipeline) in the run's namespaces, beside the
/// ref's turns, one per pipeline at a time; a failed one costs the ref nothing.
/// </summary>
public sealed class RefRunPrunesTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly AppliedObject Workflow = new("argoproj.io/v1alpha1", "Workflow", "ci", "ci-x1", "created");
    private static readonly AppliedObject Backend = new("argoproj.io/v1alpha1", "Workflow", "ci", "backend-x1", "created", "backend");
    private static readonly AppliedObject Deploy = new("batch/v1", "Job", "deploy", "deploy-x2", "created", "deploy");

    private readonly MemoryRef memory = new(new MemoryGrainStorage(new Journal()), new MemoryRefCatalog(new Journal()));
    private readonly Pruner pruner = new();
    private readonly Settings settings = new();

    public void Dispose() => memory.Dispose();

    /// <summary>A followed cluster whose stops always succeed.</summary>
    private sealed class Control : IRunControl
    {
        public bool Follows => true;

        public Task StopAsync(RunObjectRecord run, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>The prunes a ref asks for, answered at once or when released, or failed.</summary>
    private sealed class Pruner : IRunPruner
    {
        private TaskCompletionSource? held;

        public ConcurrentQueue<RunPrune> Asked { get; } = new();

        public Exception? Failure { get; set; }

        public void Hold() => held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => held?.TrySetResult();

        public async Task<IReadOnlyList<RunObjectRecord>> PruneAsync(RunPrune prune, CancellationToken cancellationToken)
        {
            Asked.Enqueue(prune);
            if (held is { } answer)
            {
                await answer.Task;
            }

            return Failure is { } failure ? throw failure : [];
        }
    }

    /// <summary>The Repository resource of <see cref="HookEvents.Repository"/>, with <see cref="KeepRuns"/>; other repositories have none.</summary>
    private sealed class Settings : IRepositorySettings
    {
        public int? KeepRuns { get; set; }

        public bool Synced => true;

        public IReadOnlyList<RepositoryResource> All => [];

        public RepositorySettings? Find(string repository) =>
            repository == HookEvents.Repository ? new RepositorySettings(repository, "ci/app", KeepRuns: KeepRuns) : null;
    }

    private Task<RefParts> OpenAsync(bool pipelineMode = false)
    {
        var retry = new RetryPolicy(3, TimeSpan.Zero, TimeSpan.Zero, new Random(7));
        var services = memory.Services(retry, new Control(), new QueueOptions(), new RunOptions());
        return memory.OpenAsync(services with { PipelineMode = pipelineMode, Pruner = pruner, Repositories = settings });
    }

    private AttemptResult Applied(IReadOnlyList<AppliedObject> objects, params PipelineRecord[] pipelines) =>
        new(objects, null, new AttemptRecord(memory.Time.GetUtcNow(), TimeSpan.FromSeconds(1), null, false)) { Pipelines = pipelines.Length > 0 ? [.. pipelines] : null };

    private Task<RunPrune> AskedAsync(int count) =>
        Eventually.Until(() => Task.FromResult(pruner.Asked.Count >= count ? pruner.Asked.ElementAt(count - 1) : null), Bound, $"prune {count} asked");

    /// <summary>Applies push <paramref name="n"/> with one Workflow in <paramref name="ns"/> and reports it finished.</summary>
    private async Task RunAsync(RefParts parts, int n, string ns, RunResult result = RunResult.Success)
    {
        var workflow = Workflow with { Namespace = ns, Name = $"ci-x{n}" };
        await ApplyAsync(parts.Events, HookEvents.Push(n), Applied([workflow]));
        await parts.Runs.ChangedAsync(State($"d{n}", workflow, result));
    }

    [Fact]
    public async Task A_finished_run_prunes_its_refs_objects_in_its_namespaces_leaving_those_the_ref_still_follows()
    {
        settings.KeepRuns = 2;
        using var parts = await OpenAsync();
        await ApplyAsync(parts.Events, HookEvents.Push(1), Applied([Workflow]));

        await RunAsync(parts, 2, "other", RunResult.Failure);

        var prune = await AskedAsync(1);
        Assert.Equal((HookEvents.Key, (string?)null, 2), (prune.Key, prune.Pipeline, prune.Keep));
        Assert.Equal(["other"], prune.Namespaces);
        Assert.Equal([("ci-x1", RunResult.Running)], prune.Followed.Select(o => (o.Name, o.Result)));
        Assert.Equal(StatusState.Failure, memory.Statuses.Reported[^1].State);
    }

    [Fact]
    public async Task Without_keep_runs_a_finished_run_asks_no_prune()
    {
        using var parts = await OpenAsync();
        await RunAsync(parts, 1, "ci");
        settings.KeepRuns = 1;

        await RunAsync(parts, 2, "other");

        // Only the run finished once the repository keeps some asked one: the first would have been asked first.
        var prune = await AskedAsync(1);
        Assert.Equal(["other"], prune.Namespaces);
        Assert.Single(pruner.Asked);
    }

    [Fact]
    public async Task One_prune_at_a_time_per_ref_and_those_asked_meanwhile_make_one_more_over_their_namespaces()
    {
        settings.KeepRuns = 1;
        using var parts = await OpenAsync();
        pruner.Hold();
        await RunAsync(parts, 1, "ci");
        await AskedAsync(1);

        await RunAsync(parts, 2, "other");
        await RunAsync(parts, 3, "ci");
        Assert.Single(pruner.Asked);
        pruner.Release();

        var again = await AskedAsync(2);
        Assert.Equal(["ci", "other"], again.Namespaces.Order(StringComparer.Ordinal));
        await RunAsync(parts, 4, "third");
        Assert.Equal(["third"], (await AskedAsync(3)).Namespaces);
    }

    [Fact]
    public async Task A_failed_prune_costs_the_run_nothing_and_the_next_finished_run_prunes_again()
    {
        settings.KeepRuns = 1;
        pruner.Failure = new PermanentException("the API server answered 403");
        using var parts = await OpenAsync();

        await RunAsync(parts, 1, "ci");
        await AskedAsync(1);
        await RunAsync(parts, 2, "other");

        Assert.Equal(["other"], (await AskedAsync(2)).Namespaces);
        Assert.All(parts.History.Entries, h => Assert.Equal(RunResult.Success, h.Run!.Result));
    }

    [Fact]
    public async Task In_pipeline_mode_each_pipeline_is_pruned_as_its_own_part_finishes_in_its_own_namespaces_and_apart_from_the_others()
    {
        settings.KeepRuns = 3;
        using var parts = await OpenAsync(pipelineMode: true);
        await ApplyAsync(parts.Events, HookEvents.Push(1), Applied([Backend, Deploy],
            new PipelineRecord("backend", PipelineStatus.Applied), new PipelineRecord("deploy", PipelineStatus.Applied)));
        pruner.Hold();

        await parts.Runs.ChangedAsync(State("d1", Deploy, RunResult.Success));
        var deploy = await AskedAsync(1);
        Assert.Equal(("deploy", 3), (deploy.Pipeline, deploy.Keep));
        Assert.Equal(["deploy"], deploy.Namespaces);
        Assert.Equal(["backend-x1"], deploy.Followed.Select(o => o.Name));

        // The deploy pipeline's prune is still held: the backend pipeline's goes on beside it.
        await parts.Runs.ChangedAsync(State("d1", Backend, RunResult.Failure));
        var backend = await AskedAsync(2);
        Assert.Equal(("backend", 3), (backend.Pipeline, backend.Keep));
        Assert.Equal(["ci"], backend.Namespaces);
        Assert.Empty(backend.Followed);
        pruner.Release();
    }
}

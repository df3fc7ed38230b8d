using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Processing;
using CiTrigger.Grains.Telemetry;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace CiTrigger.Tests.Unit;

public sealed class AttemptRunnerTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly AppliedObject Workflow = new("argoproj.io/v1alpha1", "Workflow", "ci", "ci-x7k2p", "created");

    private readonly ServiceProvider services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly Lifetime lifetime = new();
    private readonly FakeTimeProvider time = new(Now);

    /// <summary>The manifest the repository holds, or what reading it does instead.</summary>
    private Func<CancellationToken, Task<byte[]>> read = _ => Task.FromResult(Encoding.UTF8.GetBytes(SampleManifest.Workflow));

    /// <summary>What applying does; records what it was given.</summary>
    private Func<CancellationToken, Task<IReadOnlyList<AppliedObject>>> apply = _ => Task.FromResult<IReadOnlyList<AppliedObject>>([Workflow]);

    private readonly List<(IReadOnlyList<JsonObject> Documents, string Delivery, bool MayExist)> applied = [];

    private sealed class Lifetime : IHostApplicationLifetime, IDisposable
    {
        private readonly CancellationTokenSource stopping = new();

        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => stopping.Token;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication() => stopping.Cancel();

        public void Dispose() => stopping.Dispose();
    }

    private sealed class Source(AttemptRunnerTests test) : IManifestSource
    {
        public Task<byte[]> GetAsync(string repository, string path, string gitRef, long? installation, CancellationToken cancellationToken) => test.read(cancellationToken);
    }

    private sealed class Applier(AttemptRunnerTests test) : IManifestApplier
    {
        public Task<IReadOnlyList<AppliedObject>> ApplyAsync(IReadOnlyList<JsonObject> documents, string delivery, bool mayExist, CancellationToken cancellationToken)
        {
            test.applied.Add((documents, delivery, mayExist));
            return test.apply(cancellationToken);
        }
    }

    public void Dispose()
    {
        lifetime.Dispose();
        services.Dispose();
    }

    private AttemptRunner Runner(TimeSpan? timeout = null) => new(
        new EventProcessor(new Source(this), new Applier(this), new ParsedManifestCache(), new MemoryRefCatalog(), Options.Create(new ManifestOptions()), NullLogger<EventProcessor>.Instance),
        Options.Create(new RetryOptions { AttemptTimeout = timeout ?? TimeSpan.FromSeconds(20) }),
        new TriggerMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
        lifetime, time, NullLogger<AttemptRunner>.Instance);

    private static async Task<T> Forever<T>(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new InvalidOperationException("a delay without end ended");
    }

    [Fact]
    public async Task A_successful_attempt_returns_the_applied_objects_and_a_clean_record()
    {
        var result = await Runner().RunAsync(HookEvents.Pending(1), mayHaveRun: true, CancellationToken.None);

        Assert.NotNull(result);
        Assert.Equal([Workflow], result.Objects);
        Assert.Null(result.Error);
        Assert.Equal((Now, (string?)null, false), (result.Record.StartedAt, result.Record.Error, result.Record.Transient));
        var (documents, delivery, mayExist) = Assert.Single(applied);
        Assert.Equal(("d1", true), (delivery, mayExist));
        Assert.Equal(HookEvents.Sha(1), Assert.Single(documents)["metadata"]!["annotations"]!["k8s-webhook-handler.io/revision"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_attempt_past_its_deadline_is_recorded_as_timed_out_and_transient()
    {
        read = Forever<byte[]>;

        var result = await Runner(timeout: TimeSpan.FromMilliseconds(200)).RunAsync(HookEvents.Pending(1), mayHaveRun: false, CancellationToken.None).WaitAsync(Bound);

        Assert.NotNull(result);
        Assert.IsAssignableFrom<OperationCanceledException>(result.Error);
        Assert.Equal(("the attempt timed out after 0.2 s", true), (result.Record.Error, result.Record.Transient));
        Assert.Null(result.Objects);
    }

    [Fact]
    public async Task A_permanent_failure_is_recorded_in_its_own_words_as_not_transient()
    {
        read = _ => throw new ManifestException(".ci/workflow.yaml does not exist at " + HookEvents.Sha(1));

        var result = await Runner().RunAsync(HookEvents.Pending(1), mayHaveRun: false, CancellationToken.None);

        Assert.NotNull(result);
        Assert.Equal((".ci/workflow.yaml does not exist at " + HookEvents.Sha(1), false), (result.Record.Error, result.Record.Transient));
        Assert.Empty(applied);
    }

    [Fact]
    public async Task A_manifest_without_documents_is_a_permanent_failure()
    {
        read = _ => Task.FromResult(Encoding.UTF8.GetBytes("# nothing here\n"));

        var result = await Runner().RunAsync(HookEvents.Pending(1), mayHaveRun: false, CancellationToken.None);

        Assert.NotNull(result);
        Assert.Equal(($".ci/workflow.yaml at {HookEvents.Sha(1)} holds no documents", false), (result.Record.Error, result.Record.Transient));
    }

    [Fact]
    public async Task A_transient_failure_is_recorded_in_its_own_words_and_an_unclassified_one_by_its_type()
    {
        apply = _ => throw new TransientException("the Kubernetes API answered 503");
        var transient = await Runner().RunAsync(HookEvents.Pending(1), mayHaveRun: false, CancellationToken.None);
        apply = _ => throw new InvalidOperationException("surprise");
        var unclassified = await Runner().RunAsync(HookEvents.Pending(1), mayHaveRun: false, CancellationToken.None);

        Assert.Equal(("the Kubernetes API answered 503", true), (transient!.Record.Error, transient.Record.Transient));
        Assert.Equal(("InvalidOperationException: surprise", true), (unclassified!.Record.Error, unclassified.Record.Transient));
    }

    [Fact]
    public async Task An_attempt_cut_short_by_the_refs_deactivation_does_not_count()
    {
        using var deactivating = new CancellationTokenSource();
        var reading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        read = ct =>
        {
            reading.SetResult();
            return Forever<byte[]>(ct);
        };

        var running = Runner().RunAsync(HookEvents.Pending(1), mayHaveRun: false, deactivating.Token);
        await reading.Task.WaitAsync(Bound);
        await deactivating.CancelAsync();

        Assert.Null(await running.WaitAsync(Bound));
    }

    [Fact]
    public async Task An_attempt_cut_short_because_the_silo_is_stopping_does_not_count()
    {
        var reading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        read = ct =>
        {
            reading.SetResult();
            return Forever<byte[]>(ct);
        };

        var running = Runner().RunAsync(HookEvents.Pending(1), mayHaveRun: false, CancellationToken.None);
        await reading.Task.WaitAsync(Bound);
        lifetime.StopApplication();

        Assert.Null(await running.WaitAsync(Bound));
    }

    [Theory]
    [InlineData("transient", "GitHub answered 502")]
    [InlineData("permanent", "the manifest names namespace 'kube-system'")]
    [InlineData("manifest", "document 1 has no kind")]
    public void Our_own_failures_are_described_by_their_message_alone(string kind, string message)
    {
        Exception error = kind switch
        {
            "transient" => new TransientException(message),
            "permanent" => new PermanentException(message),
            _ => new ManifestException(message),
        };

        Assert.Equal(message, AttemptRunner.Describe(error));
    }

    [Fact]
    public void Other_failures_are_described_by_their_type_and_message()
    {
        Assert.Equal("HttpRequestException: connection refused", AttemptRunner.Describe(new HttpRequestException("connection refused")));
    }

    [Fact]
    public void A_long_message_is_cut_at_a_thousand_characters()
    {
        var described = AttemptRunner.Describe(new TransientException(new string('x', 5000)));

        Assert.Equal(new string('x', 1000) + "…", described);
        Assert.Equal(new string('x', 1000), AttemptRunner.Describe(new TransientException(new string('x', 1000))));
    }
}

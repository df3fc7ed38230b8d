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

    /// <summary>GitHub's permission word for a user; nobody is a collaborator unless a test says so.</summary>
    private Func<string, Task<string>> permission = _ => Task.FromResult("none");

    private readonly List<string> asked = [];

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
        public Task<byte[]> GetAsync(ManifestFile file, CancellationToken cancellationToken) => test.read(cancellationToken);

        public Task<IReadOnlyList<PipelineFile>?> ListAsync(ManifestFile directory, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("these tests run in single-file mode");

        public Task<byte[]> GetBlobAsync(ManifestFile file, string blobSha, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("these tests run in single-file mode");
    }

    private sealed class Permissions(AttemptRunnerTests test) : IRepositoryPermissions
    {
        public Task<string> PermissionAsync(string repository, string login, long? installation, CancellationToken cancellationToken)
        {
            test.asked.Add(login);
            return test.permission(login);
        }
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
        new EventProcessor(new Source(this), new Applier(this), new ParsedManifestCache(), new MemoryRefCatalog(), new Permissions(this),
            new UnknownChangedFiles(), NoRepositorySettings.Instance, NoRunSlots.Instance,
            new RunCredentials(new NoGitCredentials(), new NoRunSecrets(), NoRepositorySettings.Instance, Options.Create(new ManifestOptions()), NullLogger<RunCredentials>.Instance),
            Options.Create(new ManifestOptions { ManifestPath = ".ci/workflow.yaml" }), NullLogger<EventProcessor>.Instance),
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

    private static PendingEvent AskingFor(params string[] logins) =>
        new(HookEvents.Push(1) with { RunsIfWriter = [.. logins] }, DateTimeOffset.UnixEpoch);

    [Fact]
    public async Task An_event_that_runs_if_a_writer_vouches_applies_once_github_says_one_of_its_users_may_write()
    {
        permission = login => Task.FromResult(login == "maintainer" ? "write" : "read");

        var result = await Runner().RunAsync(AskingFor("fork-owner", "maintainer"), mayHaveRun: false, CancellationToken.None);

        Assert.Null(result!.Error);
        Assert.Equal(["fork-owner", "maintainer"], asked);
        Assert.Single(applied);
    }

    [Fact]
    public async Task An_event_none_of_whose_users_may_write_waits_for_approval_without_reading_its_manifest()
    {
        permission = login => login == "bot" ? throw new PermanentException("GitHub refused to say what bot may do in octo/app: 403 Forbidden") : Task.FromResult("read");
        read = _ => throw new InvalidOperationException("the manifest of an unapproved head was read");

        var result = await Runner().RunAsync(AskingFor("triager", "bot"), mayHaveRun: false, CancellationToken.None);

        Assert.IsType<ApprovalRequiredException>(result!.Error);
        Assert.Equal(("waiting for approval: no write access to octo/app (triager has permission 'read'; GitHub refused to say what bot may do in octo/app: 403 Forbidden)", false),
            (result.Record.Error, result.Record.Transient));
        Assert.Empty(applied);
    }

    [Fact]
    public async Task A_permission_github_cannot_tell_for_now_fails_the_attempt_as_transient()
    {
        permission = _ => throw new TransientException("GitHub answered 502");

        var result = await Runner().RunAsync(AskingFor("fork-owner"), mayHaveRun: false, CancellationToken.None);

        Assert.Equal(("GitHub answered 502", true), (result!.Record.Error, result.Record.Transient));
        Assert.Empty(applied);
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

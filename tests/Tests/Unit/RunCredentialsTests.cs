using System.Collections.Concurrent;
using System.Text;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Processing;
using CiTrigger.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Xunit;
using static CiTrigger.Tests.Support.RefSteps;

namespace CiTrigger.Tests.Unit;

/// <summary>
/// Per-run Git credentials without GitHub or a cluster: the Secret's name and content, an attempt's part (one Secret
/// per attempt however many pipelines apply, owned by the first run object of its namespace), and when a ref lets
/// the Secret go (run finished, timed out, no run at all; never while a run goes on or runs unfollowed).
/// </summary>
public sealed class RunCredentialsTests : IDisposable
{
    private static readonly AppliedObject Workflow = new AppliedObject("argoproj.io/v1alpha1", "Workflow", "ci", "ci-x7k2p", "created") { Uid = "uid-1" };
    private static readonly AppliedObject Config = new("v1", "ConfigMap", "ci", "settings", "configured");

    private readonly MemoryRef memory = new();
    private readonly Credentials credentials = new();
    private readonly Secrets secrets = new();

    public void Dispose() => memory.Dispose();

    private RunCredentials Make(IRepositorySettings? repositories = null) =>
        new(credentials, secrets, repositories ?? NoRepositorySettings.Instance, Options.Create(new ManifestOptions()), NullLogger<RunCredentials>.Instance);

    private async Task<(RefEvents Events, RefRuns Runs, Control Control)> OpenAsync(bool follows = true)
    {
        var control = new Control { Follows = follows };
        var parts = await memory.OpenAsync(memory.Services(runControl: control) with { Credentials = Make() });
        return (parts.Events, parts.Runs, control);
    }

    private AttemptResult Applied(params AppliedObject[] objects) =>
        new(objects, null, new AttemptRecord(memory.Time.GetUtcNow(), TimeSpan.FromSeconds(1), null, false));

    [Fact]
    public void A_deliverys_secret_name_is_a_dns_label_the_same_on_every_attempt_and_its_own()
    {
        var name = RunCredentials.SecretName("72d3162e-cc78-11e3-81ab-4c9367dc0958");

        Assert.Equal(name, RunCredentials.SecretName("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
        Assert.NotEqual(name, RunCredentials.SecretName("72d3162e-cc78-11e3-81ab-4c9367dc0958-rerun-1"));
        Assert.Matches("^git-auth-[0-9a-f]{20}$", name);
        Assert.True(KubernetesNames.IsDnsLabel(name));
    }

    [Fact]
    public void An_applied_objects_uid_is_neither_stored_nor_sent_between_grains()
    {
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();

        var with = serializer.SerializeToArray(Workflow);

        Assert.Equal(serializer.SerializeToArray(Workflow with { Uid = null }), with);
        Assert.Equal(Workflow with { Uid = null }, serializer.Deserialize<AppliedObject>(with));
    }

    [Fact]
    public void The_secret_is_basic_auth_with_the_credential_for_git_labelled_as_the_deliverys_objects()
    {
        var credential = new GitCredential("x-access-token", "ghs_p@ss/word", new Uri("https://ghe.example.com:8443"), DateTimeOffset.UnixEpoch);
        var delivery = "not a label value: " + new string('x', 80);

        var secret = KubernetesRunSecrets.Build(new RunSecret("ci", "git-auth-0123456789abcdef0123", delivery, "octo/app", credential));

        Assert.Equal(("v1", "Secret", "kubernetes.io/basic-auth"), (secret.ApiVersion, secret.Kind, secret.Type));
        Assert.Equal(("git-auth-0123456789abcdef0123", "ci"), (secret.Metadata.Name, secret.Metadata.NamespaceProperty));
        Assert.Equal(ManifestAnnotator.LabelValue(delivery), Assert.Single(secret.Metadata.Labels, l => l.Key == ManifestAnnotator.DeliveryLabel).Value);
        Assert.StartsWith("h-", secret.Metadata.Labels[ManifestAnnotator.DeliveryLabel], StringComparison.Ordinal);
        Assert.Equal((delivery, "octo/app"), (secret.Metadata.Annotations[ManifestAnnotator.DeliveryAnnotation], secret.Metadata.Annotations[ManifestAnnotator.RepositoryAnnotation]));
        Assert.Equal(new Dictionary<string, string>
        {
            ["username"] = "x-access-token",
            ["password"] = "ghs_p@ss/word",
            [".git-credentials"] = "https://x-access-token:ghs_p%40ss%2Fword@ghe.example.com:8443\n",
        }, secret.Data.ToDictionary(d => d.Key, d => Encoding.UTF8.GetString(d.Value)));
        Assert.Null(secret.Metadata.OwnerReferences);
        Assert.DoesNotContain("ghs_", credential.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_attempt_mints_and_creates_once_in_the_repositorys_namespace_and_the_first_run_object_there_with_a_uid_owns_it()
    {
        var repositories = new Repositories(new RepositorySettings("octo/app", "ci/octo-app", Namespace: "team-a"));
        var e = HookEvents.Push(1);
        var attempt = Make(repositories).For(e)!;

        await Task.WhenAll(attempt.CreateAsync(CancellationToken.None), attempt.CreateAsync(CancellationToken.None));
        await attempt.CreateAsync(CancellationToken.None);
        await attempt.OwnAsync([Config with { Namespace = "team-a" }, Workflow, Workflow with { Namespace = "team-a", Name = "no-uid", Uid = null }], CancellationToken.None);
        Assert.Empty(secrets.Owners);
        await attempt.OwnAsync([Workflow with { Namespace = "team-a", Name = "first" }, Workflow with { Namespace = "team-a", Name = "second", Uid = "uid-2" }], CancellationToken.None);
        await attempt.OwnAsync([Workflow with { Namespace = "team-a", Name = "third", Uid = "uid-3" }], CancellationToken.None);

        Assert.Equal(("team-a", RunCredentials.SecretName("d1")), (attempt.Namespace, attempt.Name));
        Assert.Equal([("github", "octo/app")], credentials.Asked);
        var created = Assert.Single(secrets.Created);
        Assert.Equal(("team-a", attempt.Name, "d1", "octo/app", "ghs_1"), (created.Namespace, created.Name, created.Delivery, created.Repository, created.Credential.Password));
        Assert.Equal([("team-a", attempt.Name, "first")], secrets.Owners);
    }

    [Fact]
    public async Task A_refused_token_fails_every_caller_of_the_attempt_alike_and_an_owner_that_cannot_be_set_fails_nothing()
    {
        credentials.Failure = new PermanentException("no read-only token for the run: GitHub refused");
        var attempt = Make().For(HookEvents.Push(1))!;

        var first = await Assert.ThrowsAsync<PermanentException>(() => attempt.CreateAsync(CancellationToken.None));
        var second = await Assert.ThrowsAsync<PermanentException>(() => attempt.CreateAsync(CancellationToken.None));
        Assert.Same(first, second);
        Assert.Single(credentials.Asked);
        Assert.Empty(secrets.Created);

        credentials.Failure = null;
        secrets.OwnerFailure = new TransientException("the API server answered 503");
        var next = Make().For(HookEvents.Push(2))!;
        await next.CreateAsync(CancellationToken.None);
        await next.OwnAsync([Workflow], CancellationToken.None);
        Assert.Empty(secrets.Owners);
    }

    [Fact]
    public async Task A_followed_runs_secret_goes_when_the_run_finishes_not_when_the_event_does()
    {
        var (events, runs, _) = await OpenAsync();

        await ApplyAsync(events, HookEvents.Push(1), Applied(Config, Workflow));
        var entry = events.History.Find("d1")!;
        Assert.False(runs.EventFinished(new PendingEvent(entry.Event, entry.AcceptedAt) { Attempts = entry.Attempts }, entry.Objects, entry.Run));
        await runs.ChangedAsync(State("d1", Workflow, RunResult.Failure, "exit code 1"));

        await Eventually.Until(() => secrets.Deleted.Contains(("ci", RunCredentials.SecretName("d1"))), TimeSpan.FromSeconds(10), "the Secret deleted");
    }

    [Fact]
    public async Task A_run_that_times_out_lets_its_secret_go_too()
    {
        var (events, runs, _) = await OpenAsync();
        await ApplyAsync(events, HookEvents.Push(1), Applied(Workflow));

        memory.Time.Advance(new RunOptions().RunTimeout);
        await runs.TimeOutAsync();

        await Eventually.Until(() => secrets.Deleted.Contains(("ci", RunCredentials.SecretName("d1"))), TimeSpan.FromSeconds(10), "the Secret deleted");
    }

    [Fact]
    public async Task An_event_without_a_run_object_or_that_failed_for_good_lets_its_secret_go_at_once()
    {
        var (events, _, _) = await OpenAsync();

        await ApplyAsync(events, HookEvents.Push(1), Applied(Config));
        await ApplyAsync(events, HookEvents.Push(2), new AttemptResult(null, new ManifestException("document 0 (Workflow) is invalid"),
            new AttemptRecord(memory.Time.GetUtcNow(), TimeSpan.FromSeconds(1), "document 0 (Workflow) is invalid", false)));

        await Eventually.Until(() => secrets.Deleted.Contains(("ci", RunCredentials.SecretName("d1"))) && secrets.Deleted.Contains(("ci", RunCredentials.SecretName("d2"))),
            TimeSpan.FromSeconds(10), "both Secrets deleted");
    }

    [Fact]
    public async Task Runs_nobody_follows_keep_their_secret_for_the_garbage_collector_and_an_event_never_attempted_has_none()
    {
        var (_, runs, _) = await OpenAsync(follows: false);
        var attempted = HookEvents.Pending(1) with { Attempts = [new AttemptRecord(memory.Time.GetUtcNow(), TimeSpan.FromSeconds(1), null, false)] };

        Assert.False(runs.EventFinished(attempted, [Config, Workflow], run: null));
        Assert.True(runs.EventFinished(attempted, [Config], run: null));
        Assert.False(runs.EventFinished(HookEvents.Pending(2), [], run: null));
        await Eventually.Until(() => secrets.Deleted.Contains(("ci", RunCredentials.SecretName("d1"))), TimeSpan.FromSeconds(10), "the Secret deleted");

        // Token mode: nothing was made, nothing is deleted.
        var tokenMode = await memory.OpenAsync(memory.Services(runControl: new Control()) with
        {
            Credentials = new RunCredentials(new NoGitCredentials(), secrets, NoRepositorySettings.Instance, Options.Create(new ManifestOptions()), NullLogger<RunCredentials>.Instance),
        });
        Assert.False(tokenMode.Runs.EventFinished(attempted, [Config], run: null));
    }

    private sealed class Credentials : IGitCredentials
    {
        private int minted;

        public ConcurrentQueue<(string Forge, string Repository)> Asked { get; } = new();

        public Exception? Failure { get; set; }

        public bool Enabled => true;

        public async Task<GitCredential> ReadOnlyAsync(string forge, string repository, long? installation, CancellationToken cancellationToken)
        {
            Asked.Enqueue((forge, repository));
            await Task.Yield();
            return Failure is { } failure ? throw failure
                : new GitCredential("x-access-token", $"ghs_{Interlocked.Increment(ref minted)}", new Uri("https://github.com"), DateTimeOffset.UnixEpoch.AddHours(1));
        }
    }

    private sealed class Secrets : IRunSecrets
    {
        public ConcurrentQueue<RunSecret> Created { get; } = new();

        public ConcurrentQueue<(string Namespace, string Name, string Owner)> Owners { get; } = new();

        public ConcurrentQueue<(string Namespace, string Name)> Deleted { get; } = new();

        public Exception? OwnerFailure { get; set; }

        public bool Enabled => true;

        public Task CreateAsync(RunSecret secret, CancellationToken cancellationToken)
        {
            Created.Enqueue(secret);
            return Task.CompletedTask;
        }

        public Task SetOwnerAsync(string secretNamespace, string secretName, AppliedObject owner, CancellationToken cancellationToken)
        {
            if (OwnerFailure is { } failure)
            {
                throw failure;
            }

            Owners.Enqueue((secretNamespace, secretName, owner.Name));
            return Task.CompletedTask;
        }

        public Task DeleteAsync(string secretNamespace, string secretName, CancellationToken cancellationToken)
        {
            Deleted.Enqueue((secretNamespace, secretName));
            return Task.CompletedTask;
        }
    }

    private sealed class Repositories(RepositorySettings settings) : IRepositorySettings
    {
        public bool Synced => true;

        public IReadOnlyList<RepositoryResource> All => [];

        public RepositorySettings? Find(string repository) => repository == settings.Repository ? settings : null;
    }

    private sealed class Control : IRunControl
    {
        public bool Follows { get; init; } = true;

        public Task StopAsync(RunObjectRecord run, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

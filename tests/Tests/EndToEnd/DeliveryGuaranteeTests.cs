using System.Net.Http.Json;
using System.Net;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Storage.Sqlite;
using CiTrigger.Grains.Storage;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Xunit;

namespace CiTrigger.Tests.EndToEnd;

/// <summary>What 202 promises: stored before answered, applied once, in order, whatever fails in between.</summary>
public class DeliveryGuaranteeTests
{
    [Fact]
    public async Task Every_event_is_applied_once_in_order_despite_a_flaky_slow_cluster_duplicates_and_reordering()
    {
        await using var env = await IsolatedService.StartAsync(new Dictionary<string, string>
        {
            ["Handler:MaxAttempts"] = "100",
            ["Handler:ReorderWindow"] = "00:00:03",
        });
        env.Kubernetes.FailureRate = 0.3;
        env.Kubernetes.LostAnswerRate = 0.2;
        env.Kubernetes.Latency = TimeSpan.FromMilliseconds(5);
        var repo = env.GitHub.Repo("octo/flaky");
        var branches = new[] { "a", "b", "c", "d" };
        var revisions = branches.ToDictionary(b => b, b => Enumerable.Range(0, 6).Select(_ => repo.Commit(b, ".ci/workflow.yaml", SampleManifest.Workflow)).ToList());

        var sends = new List<Task<HttpResponseMessage>>();
        foreach (var branch in branches)
        {
            var revs = revisions[branch];
            var pushes = Enumerable.Range(0, revs.Count)
                .Select(i => (Delivery: Guid.NewGuid().ToString(), Payload: Payloads.Push(repo.FullName, $"refs/heads/{branch}", i == 0 ? Payloads.ZeroSha : revs[i - 1], revs[i])))
                .ToList();

            // The push that creates the ref goes first: a ref without history has no chain to wait for.
            // The rest race each other over separate connections (GitHub does not promise an order),
            // the second and third swapped, the fifth and sixth too, each sent twice at once.
            var creating = env.Service.SendAsync("push", pushes[0].Payload, pushes[0].Delivery);
            sends.Add(creating);
            await creating;
            sends.Add(env.Service.SendAsync("push", pushes[0].Payload, pushes[0].Delivery));
            foreach (var i in new[] { 2, 1, 3, 5, 4 })
            {
                sends.Add(env.Service.SendAsync("push", pushes[i].Payload, pushes[i].Delivery));
                sends.Add(env.Service.SendAsync("push", pushes[i].Payload, pushes[i].Delivery));
            }
        }

        var answers = await Task.WhenAll(sends.Select(async s =>
        {
            using var response = await s;
            return (response.StatusCode, (await response.Content.ReadFromJsonAsync<JsonObject>())!["status"]!.GetValue<string>());
        }));
        Assert.Equal(24, answers.Count(a => a == (HttpStatusCode.Accepted, "queued")));
        Assert.Equal(24, answers.Count(a => a == (HttpStatusCode.OK, "duplicate")));

        await Eventually.Until(() => env.Kubernetes.Creations.Count == 24, TimeSpan.FromSeconds(60), "every event applied");
        foreach (var branch in branches)
        {
            var state = await env.WaitForAsync(repo.FullName, $"refs/heads/{branch}", s => IsolatedService.Finished(s) == 6 && IsolatedService.Queued(s) == 0, branch);
            Assert.All(state["history"]!.AsArray(), h => Assert.Equal("applied", h!["outcome"]!.GetValue<string>()));
        }

        AppliedOnce.InOrder(env.Kubernetes, revisions.ToDictionary(r => $"refs/heads/{r.Key}", r => (IReadOnlyList<string>)r.Value));
    }

    [Fact]
    public async Task A_push_whose_predecessor_never_arrives_is_processed_after_the_window_and_marked()
    {
        await using var env = await IsolatedService.StartAsync(new Dictionary<string, string> { ["Handler:ReorderWindow"] = "00:00:01" });
        var repo = env.GitHub.Repo("octo/gap");
        var first = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var third = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);

        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.ZeroSha, first));
        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the first push");
        var sent = DateTimeOffset.UtcNow;
        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(77), third));
        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 2, "the gapped push");

        var gapped = state["history"]![0]!;
        Assert.True(gapped["outOfChain"]!.GetValue<bool>());
        Assert.False(state["history"]![1]!["outOfChain"]!.GetValue<bool>());
        Assert.True(gapped["attempts"]![0]!["startedAt"]!.GetValue<DateTimeOffset>() >= sent.AddSeconds(0.9), "it waited for the window");
        Assert.Equal(third, state["lastAfter"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_attempt_that_hangs_times_out_and_its_retry_does_not_create_a_second_object()
    {
        await using var env = await IsolatedService.StartAsync(new Dictionary<string, string> { ["Handler:AttemptTimeout"] = "00:00:01" });
        var repo = env.GitHub.Repo("octo/hang");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var posts = 0;
        env.Kubernetes.Hold = r => r.Method == "POST" && Interlocked.Increment(ref posts) == 1 ? release.Task : Task.CompletedTask;

        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after));
        var timedOut = await env.WaitForAsync(repo.FullName, "refs/heads/main",
            s => IsolatedService.Queued(s) == 1 && s["queue"]![0]!["attempts"]!.AsArray().Count >= 1, "the attempt to time out");

        // The hung create completes now: too late for the attempt that sent it, but the object exists.
        release.SetResult();
        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the retry");

        Assert.Contains("timed out after 1 s", timedOut["queue"]![0]!["attempts"]![0]!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Single(env.Kubernetes.Creations);
        Assert.Equal("applied", state["history"]![0]!["outcome"]!.GetValue<string>());
    }

    [Fact]
    public async Task When_the_store_cannot_write_the_webhook_is_answered_503_and_a_redelivery_later_is_accepted()
    {
        var failing = new FailingSwitch();
        await using var github = await Fakes.FakeGitHubApi.StartAsync();
        await using var kubernetes = await Fakes.FakeKubernetesApi.StartAsync();
        await using var service = await TriggerHost.StartAsync(github, kubernetes, configure: builder =>
            WrapRefStorage(builder, inner => new FailingGrainStorage(inner, failing)));
        var repo = github.Repo("octo/store-down");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var payload = Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after);
        var delivery = Guid.NewGuid().ToString();

        failing.On = true;
        using var refused = await service.SendAsync("push", payload, delivery);
        var refusal = (await refused.Content.ReadFromJsonAsync<JsonObject>())!;
        failing.On = false;
        await Eventually.Until(async () =>
        {
            using var response = await service.SendAsync("push", payload, delivery);
            return response.StatusCode == HttpStatusCode.Accepted ? "accepted" : null;
        }, TimeSpan.FromSeconds(10), "the redelivery to be accepted");
        await Eventually.Until(() => kubernetes.Creations.Count == 1, TimeSpan.FromSeconds(20), "the event to be applied");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Contains("nothing was acknowledged", refusal["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Single(kubernetes.Creations);
    }

    [Fact]
    public async Task A_redelivery_is_a_duplicate_long_after_the_event_left_the_refs_history()
    {
        await using var env = await IsolatedService.StartAsync(new Dictionary<string, string> { ["Handler:HistorySize"] = "2" });
        var repo = env.GitHub.Repo("octo/old-redelivery");
        var revisions = Enumerable.Range(0, 4).Select(_ => repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow)).ToList();
        var pushes = revisions.Select((r, i) => (Delivery: Guid.NewGuid().ToString(),
            Payload: Payloads.Push(repo.FullName, "refs/heads/main", i == 0 ? Payloads.ZeroSha : revisions[i - 1], r))).ToList();
        foreach (var (delivery, payload) in pushes)
        {
            await env.Service.SendAsync("push", payload, delivery);
        }

        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Queued(s) == 0 && env.Kubernetes.Creations.Count == 4, "all four events");
        using var redelivered = await env.Service.SendAsync("push", pushes[0].Payload, pushes[0].Delivery);

        Assert.DoesNotContain(state["history"]!.AsArray(), h => h!["event"]!["delivery"]!.GetValue<string>() == pushes[0].Delivery);
        Assert.Equal((HttpStatusCode.OK, "duplicate"), (redelivered.StatusCode, (await redelivered.Content.ReadFromJsonAsync<JsonObject>())!["status"]!.GetValue<string>()));
        Assert.Equal(4, env.Kubernetes.Creations.Count);
    }

    [Fact]
    public async Task A_ref_whose_queue_is_full_answers_503_and_accepts_the_redelivery_once_it_has_room()
    {
        await using var env = await IsolatedService.StartAsync(new Dictionary<string, string> { ["Handler:MaxQueueLength"] = "2" });
        var repo = env.GitHub.Repo("octo/flood");
        var revisions = Enumerable.Range(0, 3).Select(_ => repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow)).ToList();
        var pushes = revisions.Select((r, i) => (Delivery: Guid.NewGuid().ToString(),
            Payload: Payloads.Push(repo.FullName, "refs/heads/main", i == 0 ? Payloads.ZeroSha : revisions[i - 1], r))).ToList();
        using (await env.Service.Client.PostAsync($"/admin/repos/{repo.FullName}/refs/heads/main/pause", null))
        {
        }

        using var first = await env.Service.SendAsync("push", pushes[0].Payload, pushes[0].Delivery);
        using var second = await env.Service.SendAsync("push", pushes[1].Payload, pushes[1].Delivery);
        using var third = await env.Service.SendAsync("push", pushes[2].Payload, pushes[2].Delivery);
        var refusal = (await third.Content.ReadFromJsonAsync<JsonObject>())!;
        using (await env.Service.Client.PostAsync($"/admin/repos/{repo.FullName}/refs/heads/main/resume", null))
        {
        }

        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 2, "the two queued events");
        using var redelivered = await env.Service.SendAsync("push", pushes[2].Payload, pushes[2].Delivery);
        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 3, "the redelivered event");

        Assert.Equal((HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.ServiceUnavailable), (first.StatusCode, second.StatusCode, third.StatusCode));
        Assert.Contains("Handler:MaxQueueLength", refusal["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Accepted, redelivered.StatusCode);
        AppliedOnce.InOrder(env.Kubernetes, new Dictionary<string, IReadOnlyList<string>> { ["refs/heads/main"] = revisions });
    }

    [Fact]
    public async Task The_202_waits_until_the_delivery_can_be_looked_up_and_a_failed_store_takes_the_record_back()
    {
        var held = new HeldDeliveryRecords();
        await using var github = await Fakes.FakeGitHubApi.StartAsync();
        await using var kubernetes = await Fakes.FakeKubernetesApi.StartAsync();
        var failing = new FailingSwitch();
        await using var service = await TriggerHost.StartAsync(github, kubernetes, configure: builder =>
        {
            builder.Services.AddSingleton<IRefCatalog>(sp => new HeldCatalog(
                new SqliteRefCatalog(sp.GetRequiredService<SqliteStore>(), TimeProvider.System, new DeliveryIndexOptions()), held));
            WrapRefStorage(builder, inner => new FailingGrainStorage(inner, failing));
        });
        var repo = github.Repo("octo/index-first");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var delivery = Guid.NewGuid().ToString();

        var sending = service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.ZeroSha, after), delivery);
        await held.Recording.Task.WaitAsync(TimeSpan.FromSeconds(20));

        // A negative check needs a window: the queue write itself takes milliseconds, so an answer that did
        // not wait for the index would be here long before this.
        await Task.Delay(200);
        Assert.False(sending.IsCompleted, "answered before the delivery was in the index");
        held.Release.SetResult();
        using (var answer = await sending)
        {
            Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        }

        using (var lookup = await service.Client.GetAsync($"/admin/deliveries/{delivery}"))
        {
            Assert.Equal(HttpStatusCode.OK, lookup.StatusCode);
        }

        // The store fails: nothing acknowledged, and GitHub's redelivery is then stored, not called a duplicate.
        failing.On = true;
        var second = Guid.NewGuid().ToString();
        var next = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var payload = Payloads.Push(repo.FullName, "refs/heads/main", after, next);
        using (var refused = await service.SendAsync("push", payload, second))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        failing.On = false;
        using var redelivered = await service.SendAsync("push", payload, second);
        Assert.Equal(HttpStatusCode.Accepted, redelivered.StatusCode);
    }

    [Fact]
    public async Task A_ref_whose_write_timed_out_after_it_landed_reads_the_store_again_and_goes_on()
    {
        var landed = new LandedThenTimedOut("log.");
        await using var env = await IsolatedService.StartAsync(configure: builder => WrapRefStorage(builder, inner => new LandedStorage(inner, landed)));
        var repo = env.GitHub.Repo("octo/store-timeout");
        var first = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var second = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);

        // The first history record's write lands in the store, then the call fails as a client timeout does: the
        // activation's version of that record is behind the store's from then on.
        using (var accepted = await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.ZeroSha, first)))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        await Eventually.Until(() => landed.Fired, TimeSpan.FromSeconds(20), "the history write that times out after it landed");
        using (var accepted = await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", first, second)))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main",
            s => IsolatedService.Finished(s) == 2 && IsolatedService.Queued(s) == 0, "both pushes recorded", seconds: 30);

        Assert.All(state["history"]!.AsArray(), h => Assert.Equal("applied", h!["outcome"]!.GetValue<string>()));
        AppliedOnce.InOrder(env.Kubernetes, new Dictionary<string, IReadOnlyList<string>> { ["refs/heads/main"] = [first, second] });
    }

    /// <summary>The refs' grain storage: the real SQLite one, wrapped by <paramref name="wrap"/>.</summary>
    private static void WrapRefStorage(WebApplicationBuilder builder, Func<IGrainStorage, IGrainStorage> wrap) =>
        builder.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Refs, (sp, _) => wrap(
            new SqliteGrainStorage(sp.GetRequiredService<SqliteStore>(), new OrleansGrainStorageSerializer(sp.GetRequiredService<Orleans.Serialization.Serializer>()))));

    /// <summary>Holds the first delivery record until released; forgets records like the real catalog.</summary>
    private sealed class HeldDeliveryRecords
    {
        public TaskCompletionSource Recording { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class HeldCatalog(IRefCatalog inner, HeldDeliveryRecords held) : IRefCatalog
    {
        public Task RecordRefAsync(Grains.Abstractions.RefSummary summary) => inner.RecordRefAsync(summary);

        public Task RecordAsync(Grains.Abstractions.RefSummary summary, IReadOnlyList<Grains.Abstractions.EventSummary> events) => inner.RecordAsync(summary, events);

        public async Task RecordDeliveryAsync(string delivery, string key, DateTimeOffset at)
        {
            if (held.Recording.TrySetResult())
            {
                await held.Release.Task;
            }

            await inner.RecordDeliveryAsync(delivery, key, at);
        }

        public Task ForgetDeliveryAsync(string delivery) => inner.ForgetDeliveryAsync(delivery);

        public Task<Grains.Abstractions.RefPage> ListAsync(Grains.Abstractions.RefQuery query) => inner.ListAsync(query);

        public Task<string?> FindDeliveryAsync(string delivery) => inner.FindDeliveryAsync(delivery);

        public Task RecordManifestAsync(string delivery, string manifest) => inner.RecordManifestAsync(delivery, manifest);

        public Task<string?> FindManifestAsync(string delivery) => inner.FindManifestAsync(delivery);

        public Task RecordEventsAsync(IReadOnlyList<Grains.Abstractions.EventSummary> events) => inner.RecordEventsAsync(events);

        public Task<Grains.Abstractions.EventPage> ListEventsAsync(Grains.Abstractions.EventQuery query) => inner.ListEventsAsync(query);

        public Task RecordRunningAsync(string delivery, string key, DateTimeOffset startedAt) => inner.RecordRunningAsync(delivery, key, startedAt);

        public Task ForgetRunningAsync(string delivery) => inner.ForgetRunningAsync(delivery);

        public Task<IReadOnlyList<RunningRun>> ListRunningAsync() => inner.ListRunningAsync();

        public Task<bool> PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);
    }

    private sealed class FailingSwitch
    {
        public volatile bool On;
    }

    /// <summary>The real storage, with writes that fail while the switch is on.</summary>
    private sealed class FailingGrainStorage(IGrainStorage inner, FailingSwitch failing) : IGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            failing.On ? Task.FromException(new IOException("injected: the disk is full")) : inner.WriteStateAsync(stateName, grainId, grainState);

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
    }

    /// <summary>Once armed, the first write of a state whose name starts with a prefix lands, then fails as a client timeout does.</summary>
    private sealed class LandedThenTimedOut(string prefix)
    {
        private int fired;

        public bool Fired => Volatile.Read(ref fired) == 1;

        public bool Fire(string stateName) => stateName.StartsWith(prefix, StringComparison.Ordinal) && Interlocked.Exchange(ref fired, 1) == 0;
    }

    private sealed class LandedStorage(IGrainStorage inner, LandedThenTimedOut landed) : IGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

        public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (!landed.Fire(stateName))
            {
                await inner.WriteStateAsync(stateName, grainId, grainState);
                return;
            }

            // The store's copy of the state, written with the etag it gets, while the caller's keeps the old one.
            var copy = new GrainState<T>(grainState.State) { ETag = grainState.ETag, RecordExists = grainState.RecordExists };
            await inner.WriteStateAsync(stateName, grainId, copy);
            throw new TimeoutException("injected: the write landed, its answer did not come in time");
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
    }
}

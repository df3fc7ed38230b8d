using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CiTrigger.Tests.EndToEnd;

/// <summary>
/// The whole service in App mode over real HTTP with the fake GitHub and Kubernetes APIs; the cluster's side
/// of run following is played in-process: a recording <see cref="IRunControl"/> in place of the follower,
/// and the service's own <see cref="IRunObserver"/> told what the run objects did, as the follower would.
/// </summary>
public class RunReportingTests
{
    private const long Installation = 43;

    private sealed class RecordingControl : IRunControl
    {
        public bool Follows => true;

        public ConcurrentQueue<RunObjectRecord> Stopped { get; } = new();

        public Task StopAsync(RunObjectRecord run, CancellationToken cancellationToken)
        {
            Stopped.Enqueue(run);
            return Task.CompletedTask;
        }
    }

    private sealed class Env(FakeGitHubApi github, FakeKubernetesApi kubernetes, TriggerHost service, AppIdentity app, RecordingControl control) : IAsyncDisposable
    {
        public FakeGitHubApi GitHub => github;

        public FakeKubernetesApi Kubernetes => kubernetes;

        public TriggerHost Service => service;

        public RecordingControl Control => control;

        public IRunObserver Observer => service.Services.GetRequiredService<IRunObserver>();

        public async ValueTask DisposeAsync()
        {
            await service.DisposeAsync();
            await kubernetes.DisposeAsync();
            await github.DisposeAsync();
            app.Dispose();
        }
    }

    private static async Task<Env> StartAsync(string repository, IDictionary<string, string>? more = null)
    {
        var github = await FakeGitHubApi.StartAsync();
        var kubernetes = await FakeKubernetesApi.StartAsync();
        var app = AppIdentity.Register(github);
        github.Install(app.App, Installation, repository);
        var control = new RecordingControl();
        var settings = app.Settings(ServiceSettings.Combine(new Dictionary<string, string>
        {
            ["GitHub:ReportStatus"] = "true",
            ["GitHub:StatusContext"] = "ci/trigger",
        }, more));
        var service = await TriggerHost.StartAsync(github, kubernetes, settings, builder => builder.Services.AddSingleton<IRunControl>(control));
        return new Env(github, kubernetes, service, app, control);
    }

    private static async Task<string> PushAsync(Env env, FakeGitHubApi.Repository repo, int n)
    {
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow + $"\n# {n}\n");
        var delivery = Guid.NewGuid().ToString();
        using var answer = await env.Service.SendAsync("push", Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(n), after), Installation), delivery);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, answer.StatusCode);
        return delivery;
    }

    private static Task<FakeGitHubApi.CheckRun> CheckAsync(Env env, string delivery, Func<FakeGitHubApi.CheckRun, bool> condition, string what) =>
        Eventually.Until(() => Task.FromResult(env.GitHub.CheckRuns.FirstOrDefault(r => r.ExternalId == delivery && condition(r))), TimeSpan.FromSeconds(20), what);

    private static Task<JsonObject> DeliveryAsync(Env env, string delivery, string status) =>
        Eventually.Until(async () => await env.Service.Client.GetFromJsonAsync<JsonObject>($"/admin/deliveries/{delivery}") is { } record
            && record["status"]!.GetValue<string>() == status ? record : null, TimeSpan.FromSeconds(20), $"delivery {delivery} {status}");

    private static RunObjectState State(string delivery, string repository, JsonObject workflow, RunResult result, string? message = null) =>
        new(delivery, repository, "refs/heads/main", "argoproj.io/v1alpha1", "Workflow", "ci", workflow["metadata"]!["name"]!.GetValue<string>(), result, message);

    [Fact]
    public async Task An_applied_workflow_keeps_its_check_in_progress_until_the_workflow_succeeds()
    {
        await using var env = await StartAsync("octo/runs");
        var repo = env.GitHub.Repo("octo/runs");

        var delivery = await PushAsync(env, repo, 1);
        var running = await DeliveryAsync(env, delivery, "running");
        var workflow = Assert.Single(env.Kubernetes.CreationsOf("Workflow"));
        var name = workflow["metadata"]!["name"]!.GetValue<string>();
        var inProgress = await CheckAsync(env, delivery, r => r.Status == "in_progress", "the check in progress");
        Assert.Equal($"running Workflow {name}", inProgress.Output!["title"]!.GetValue<string>());
        var run = running["result"]!["run"]!;
        Assert.Equal("running", run["result"]!.GetValue<string>());
        Assert.Null(run["finishedAt"]);
        Assert.Equal(("Workflow", name, "running"), (run["objects"]![0]!["kind"]!.GetValue<string>(), run["objects"]![0]!["name"]!.GetValue<string>(), run["objects"]![0]!["result"]!.GetValue<string>()));

        var runningPage = await env.Service.Client.GetStringAsync($"/ui/deliveries/{delivery}");
        Assert.Contains($"<li>Workflow {name} <span class=\"muted\">(ci)</span>: running</li>", runningPage, StringComparison.Ordinal);

        await env.Observer.ChangedAsync(State(delivery, repo.FullName, workflow, RunResult.Success), CancellationToken.None);
        await env.Observer.ChangedAsync(State(delivery, repo.FullName, workflow, RunResult.Success), CancellationToken.None);

        var done = await CheckAsync(env, delivery, r => r.Status == "completed", "the check completed");
        Assert.Equal("success", done.Conclusion);
        Assert.Equal($"Workflow {name} succeeded", done.Output!["summary"]!.GetValue<string>());
        Assert.Equal(["queued", "in_progress", "completed"], done.History.Select(h => h["status"]!.GetValue<string>()));
        var finished = (await DeliveryAsync(env, delivery, "succeeded"))["result"]!["run"]!;
        Assert.Equal("success", finished["result"]!.GetValue<string>());
        Assert.NotNull(finished["finishedAt"]);
        var page = await env.Service.Client.GetStringAsync($"/ui/deliveries/{delivery}");
        Assert.Contains($"<li>Workflow {name} <span class=\"muted\">(ci)</span>: success</li>", page, StringComparison.Ordinal);
        Assert.Contains("<dt>Result</dt><dd><span class=\"state state-succeeded\">succeeded</span></dd>", page, StringComparison.Ordinal);
        var history = await env.Service.Client.GetFromJsonAsync<JsonObject>($"/admin/repos/{repo.FullName}/refs/heads/main");
        Assert.Equal("success", history!["history"]![0]!["run"]!["objects"]![0]!["result"]!.GetValue<string>());
        var scrape = await Eventually.Until(async () => await env.Service.Client.GetStringAsync("/metrics") is var text
            && text.Contains("citrigger_runs_finished_total{", StringComparison.Ordinal) ? text : null, TimeSpan.FromSeconds(20), "the run counted");
        Assert.Equal(1, PrometheusText.Sample(scrape, "citrigger_runs_finished_total", "result=\"success\""));
        Assert.Equal(1, PrometheusText.Sample(scrape, "citrigger_run_duration_seconds_count", "result=\"success\""));
    }

    [Fact]
    public async Task A_list_reaches_the_ref_through_the_unfinished_runs_and_a_failed_workflow_fails_the_check_with_its_message()
    {
        await using var env = await StartAsync("octo/runs-listed");
        var repo = env.GitHub.Repo("octo/runs-listed");
        var delivery = await PushAsync(env, repo, 1);
        await DeliveryAsync(env, delivery, "running");
        var workflow = Assert.Single(env.Kubernetes.CreationsOf("Workflow"));

        await env.Observer.ListedAsync(new RunListScope("argoproj.io/v1alpha1", "Workflow", "ci"),
            [State(delivery, repo.FullName, workflow, RunResult.Failure, "child 'build' failed"), State("someone-elses", "octo/other", workflow, RunResult.Success)],
            CancellationToken.None);

        var done = await CheckAsync(env, delivery, r => r.Status == "completed", "the check completed");
        Assert.Equal("failure", done.Conclusion);
        Assert.EndsWith("failed: child 'build' failed", done.Output!["summary"]!.GetValue<string>(), StringComparison.Ordinal);
        await DeliveryAsync(env, delivery, "failed");
    }

    [Fact]
    public async Task With_cancel_superseded_a_newer_push_stops_the_earlier_workflow_and_cancels_its_check_at_once()
    {
        await using var env = await StartAsync("octo/runs-superseded", new Dictionary<string, string> { ["Handler:CancelSuperseded"] = "true" });
        var repo = env.GitHub.Repo("octo/runs-superseded");
        var first = await PushAsync(env, repo, 1);
        await DeliveryAsync(env, first, "running");
        var firstWorkflow = env.Kubernetes.CreationsOf("Workflow")[0]["metadata"]!["name"]!.GetValue<string>();

        var second = await PushAsync(env, repo, 2);

        var cancelled = await CheckAsync(env, first, r => r.Status == "completed", "the first check completed");
        Assert.Equal("cancelled", cancelled.Conclusion);
        Assert.Equal($"Workflow {firstWorkflow} was cancelled: superseded by {second}", cancelled.Output!["summary"]!.GetValue<string>());
        await Eventually.Until(() => !env.Control.Stopped.IsEmpty, TimeSpan.FromSeconds(20), "the stop");
        Assert.Equal(firstWorkflow, Assert.Single(env.Control.Stopped).Name);
        await DeliveryAsync(env, first, "cancelled");
        await DeliveryAsync(env, second, "running");
        Assert.Equal("in_progress", env.GitHub.CheckRuns.Single(r => r.ExternalId == second).Status);
    }

    [Fact]
    public async Task A_run_that_outlives_the_run_timeout_completes_its_check_timed_out()
    {
        await using var env = await StartAsync("octo/runs-slow", ServiceSettings.Combine(ServiceSettings.FastRecovery, new Dictionary<string, string>
        {
            ["Handler:RunTimeout"] = "00:00:01",
        }));
        var repo = env.GitHub.Repo("octo/runs-slow");

        var delivery = await PushAsync(env, repo, 1);

        var done = await CheckAsync(env, delivery, r => r.Status == "completed", "the check completed");
        Assert.Equal("timed_out", done.Conclusion);
        Assert.Contains("timed out: still running after 1 s", done.Output!["summary"]!.GetValue<string>(), StringComparison.Ordinal);
        var run = (await DeliveryAsync(env, delivery, "timed-out"))["result"]!["run"]!;
        Assert.Equal("timed_out", run["result"]!.GetValue<string>());
    }
}

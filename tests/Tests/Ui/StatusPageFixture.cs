using System.Net;
using System.Text.Json.Nodes;
using CiTrigger.Tests.EndToEnd;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Ui;

/// <summary>
/// One running service with events in every state the service produces today (queued, waiting for
/// approval, in flight, retrying, applied, failed, skipped), a repository whose names are markup, and one
/// headless Chromium.
/// The fake cluster holds one repository's apply open and fails another's, so those states last as long
/// as the tests need them.
/// </summary>
public sealed class StatusPageFixture : IAsyncLifetime
{
    public const string Applied = "octo/ui-applied";
    public const string Failed = "octo/ui-failed";
    public const string Retrying = "octo/ui-retrying";
    public const string Busy = "octo/ui-busy";
    public const string Queued = "octo/ui-queued";
    public const string Hostile = "octo/ui-hostile";
    public const string Pulls = "octo/ui-pulls";

    /// <summary>A branch name that is markup; git allows it, so whoever can push can send it.</summary>
    public const string ScriptBranch = "<script>window.pwned=1</script>";

    /// <summary>A check suite's branch that would close an attribute and add an element if it were not encoded.</summary>
    public const string AttributeBranch = "\"><img/src=x/onerror=window.pwned=2>";

    public const string MarkupAction = "<b>bold</b>";

    private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IsolatedService Env { get; private set; } = null!;

    public Browser Browser { get; private set; } = null!;

    public string AppliedDelivery { get; } = Guid.NewGuid().ToString();

    public string FailedDelivery { get; } = Guid.NewGuid().ToString();

    public Uri Address(string path) => new(Env.Service.Client.BaseAddress!, path);

    public async ValueTask InitializeAsync()
    {
        Env = await IsolatedService.StartAsync(new Dictionary<string, string>
        {
            // A retrying head keeps waiting and an apply held open stays in flight while the tests look.
            ["Handler:RetryBaseDelay"] = "00:10:00",
            ["Handler:RetryMaxDelay"] = "00:20:00",
            ["Handler:AttemptTimeout"] = "00:10:00",
            ["GitHub:StatusTargetUrl"] = "https://argo.example.com/workflows/{namespace}/{name}",
            ["GitHub:ReportStatus"] = "true",
            ["Handler:Events"] = "push,delete,check_run,check_suite,pull_request",

            // Every check_suite action is handled, so one whose action is markup reaches the page.
            ["Handler:Actions"] = "pull_request:opened|synchronize|reopened|closed,check_run:rerequested",
            ["GitHub:StatusContext"] = "ci/k8s",
        });
        Env.Kubernetes.Hold = request =>
            request.Body.Contains($"\"{Busy}\"", StringComparison.Ordinal) ? released.Task
            : request.Body.Contains($"\"{Retrying}\"", StringComparison.Ordinal) ? Task.FromException(new IOException("injected: the API server fails this repository"))
            : Task.CompletedTask;

        await PushAsync(Applied, "refs/heads/main", AppliedDelivery);
        await PushAsync(Failed, "refs/heads/main", FailedDelivery, manifest: false);
        await PushAsync(Retrying, "refs/heads/main");
        await PushAsync(Retrying, "refs/heads/stuck");
        await PushAsync(Retrying, "refs/heads/skipped");
        await PushAsync(Busy, "refs/heads/main");
        await PostAsync($"/admin/repos/{Queued}/refs/heads/main/pause");
        await PushAsync(Queued, "refs/heads/main");
        await PushAsync(Hostile, "refs/heads/" + ScriptBranch);
        var hostile = Env.GitHub.Repo(Hostile);
        var suite = JsonNode.Parse(Payloads.CheckSuite(Hostile, AttributeBranch, Payloads.ZeroSha, hostile.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow), MarkupAction))!;
        await AcceptedAsync(Env.Service.SendAsync("check_suite", suite.ToJsonString()));

        // An outsider's pull request from a fork waits for a maintainer's approval.
        var pulls = Env.GitHub.Repo(Pulls);
        var fork = Env.GitHub.Repo("outsider/ui-pulls");
        var baseSha = pulls.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        await AcceptedAsync(Env.Service.SendAsync("pull_request",
            Payloads.PullRequest(Pulls, 7, "opened", fork.Commit("feature", "README.md", "a change"), baseSha, "CONTRIBUTOR", fork.FullName)));

        await Env.WaitForAsync(Applied, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the applied push");
        await Env.WaitForAsync(Failed, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the failed push");
        foreach (var branch in new[] { "main", "stuck", "skipped" })
        {
            await Env.WaitForAsync(Retrying, "refs/heads/" + branch, RetryingHead, $"a retrying head on {branch}");
        }

        await Env.WaitForAsync(Busy, "refs/heads/main", s => s["inFlight"] is not null, "the held apply in flight");
        await PostAsync($"/admin/repos/{Retrying}/refs/heads/skipped/skip");
        Browser = Browser.Start();
    }

    public static bool RetryingHead(JsonObject state) =>
        state["queue"]!.AsArray() is [{ } head] && head["attempts"]!.AsArray().Count > 0 && state["inFlight"] is null;

    public async ValueTask DisposeAsync()
    {
        Browser?.Dispose();
        released.TrySetResult();
        await Env.DisposeAsync();
    }

    private async Task PushAsync(string repository, string gitRef, string? delivery = null, bool manifest = true)
    {
        var repo = Env.GitHub.Repo(repository);
        var after = manifest ? repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow) : repo.Commit("main", "README.md", "no manifest here");
        await AcceptedAsync(Env.Service.SendAsync("push", Payloads.Push(repository, gitRef, Payloads.ZeroSha, after), delivery));
    }

    private async Task PostAsync(string path)
    {
        using var response = await Env.Service.Client.PostAsync(path, null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task AcceptedAsync(Task<HttpResponseMessage> sending)
    {
        using var response = await sending;
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }
}

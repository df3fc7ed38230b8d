using System.Net;
using System.Net.Sockets;
using CiTrigger.Grains.GitHub;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>
/// GitHub requests are bounded by <c>GitHub:RequestTimeout</c> alone: Octokit's own per-request timeout (a timer and two
/// cancellation sources it never disposes, alive 100 s after every call) is not armed.
/// </summary>
public class GitHubClientTimeoutTests
{
    [Fact]
    public async Task A_request_github_never_answers_fails_once_the_request_timeout_has_passed()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        // Takes the connection and never answers on it.
        var accepted = silent.AcceptTcpClientAsync();
        var options = new GitHubOptions
        {
            BaseUrl = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/",
            RequestTimeout = TimeSpan.FromMilliseconds(300),
        };
        var client = GitHubClientFactory.Create(options, "token", 1_000_000);

        var call = client.Repository.Get("octo", "app");

        // Far longer than the request timeout: only a request left unbounded would reach it.
        var error = await Assert.ThrowsAnyAsync<Exception>(() => call.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.IsNotType<TimeoutException>(error);
        Assert.True(error is TaskCanceledException or OperationCanceledException, error.ToString());
        (await accepted).Dispose();
    }

    [Fact]
    public async Task A_request_reaches_octokits_adapter_without_a_timeout_of_its_own()
    {
        using var adapter = new DeadlineOnlyHttpClientAdapter(() => new Answer());
        var request = new Octokit.Internal.Request
        {
            BaseAddress = new Uri("http://127.0.0.1:1/"),
            Endpoint = new Uri("repos/octo/app", UriKind.Relative),
            Method = HttpMethod.Get,
            Timeout = TimeSpan.FromSeconds(100),
        };

        var response = await adapter.Send(request, CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(TimeSpan.Zero, request.Timeout);
    }

    private sealed class Answer : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}") });
    }
}

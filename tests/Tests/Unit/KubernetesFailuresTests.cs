using System.Net;
using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Pipeline;
using k8s.Autorest;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class KubernetesFailuresTests
{
    private static HttpOperationException Answer(HttpStatusCode status, string? retryAfter = null)
    {
        using var response = new HttpResponseMessage(status);
        if (retryAfter is not null)
        {
            response.Headers.Add(RetryAfterHeader.Name, retryAfter);
        }

        const string body = """{"kind":"Status","status":"Failure","message":"the server says why","code":0}""";
        return new HttpOperationException($"answered {(int)status}") { Response = new HttpResponseMessageWrapper(response, body) };
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError, true)]
    [InlineData(HttpStatusCode.ServiceUnavailable, true)]
    [InlineData(HttpStatusCode.TooManyRequests, true)]
    [InlineData(HttpStatusCode.Conflict, true)]
    [InlineData(HttpStatusCode.RequestTimeout, true)]
    [InlineData(HttpStatusCode.BadRequest, false)]
    [InlineData(HttpStatusCode.Forbidden, false)]
    [InlineData(HttpStatusCode.NotFound, false)]
    [InlineData(HttpStatusCode.UnprocessableEntity, false)]
    public void An_answer_is_transient_only_when_the_server_or_a_concurrent_writer_is_to_blame(HttpStatusCode status, bool transient)
    {
        var failure = KubernetesFailures.Classify(Answer(status), "document 0 (Workflow ci-)", CancellationToken.None);

        Assert.Equal(transient, failure is TransientException);
        Assert.Equal(!transient, failure is PermanentException);
        Assert.Equal($"document 0 (Workflow ci-): the API server answered {(int)status} the server says why", failure!.Message);
    }

    [Fact]
    public void A_servers_retry_after_is_kept_with_the_transient_failure()
    {
        var failure = KubernetesFailures.Classify(Answer(HttpStatusCode.TooManyRequests, "7"), "stopping Job ci/build-1", CancellationToken.None);

        Assert.Equal(TimeSpan.FromSeconds(7), Assert.IsType<TransientException>(failure).RetryAfter);
    }

    [Fact]
    public void A_server_that_cannot_be_reached_or_not_in_time_is_transient_but_the_callers_own_cancellation_is_not_classified()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        var unreachable = KubernetesFailures.Classify(new HttpRequestException("connection refused"), "document 0", CancellationToken.None);
        var slow = KubernetesFailures.Classify(new TaskCanceledException("HttpClient.Timeout"), "document 0", CancellationToken.None);

        Assert.Equal("document 0: the API server could not be reached: connection refused", Assert.IsType<TransientException>(unreachable).Message);
        Assert.Equal("document 0: the API server could not be reached in time: HttpClient.Timeout", Assert.IsType<TransientException>(slow).Message);
        Assert.Null(KubernetesFailures.Classify(new TaskCanceledException(), "document 0", cancelled.Token));
        Assert.Null(KubernetesFailures.Classify(new InvalidOperationException("a bug"), "document 0", CancellationToken.None));
    }

    [Theory]
    [InlineData("120", 120)]
    [InlineData("0", 0)]
    [InlineData("Wed, 21 Oct 2026 07:28:00 GMT", null)]
    [InlineData(null, null)]
    public void Retry_after_is_read_in_whole_seconds_the_one_way_github_and_the_api_server_send_it(string? value, int? seconds)
    {
        Assert.Equal(seconds is { } s ? TimeSpan.FromSeconds(s) : null, RetryAfterHeader.Parse(value));
    }
}

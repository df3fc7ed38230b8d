using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text;
using CiTrigger.Gateway.Forges.GitHub;
using CiTrigger.Gateway.Webhooks;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Silo.Cli;

/// <summary>Signs a payload the way GitHub does and posts it to a running service.</summary>
public static class SendCommand
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    public static readonly IReadOnlyList<CommandOption> Options =
    [
        new("url", "URL", $"where to post (default {TriggerApp.DefaultUrl}/webhooks/github)"),
        new("secret", "S", "the webhook secret to sign with (default $WEBHOOK_SECRET; unsigned without one)"),
        new("event", "TYPE", $"the X-GitHub-Event: {string.Join(", ", GitHubEventReader.KnownEvents)} (default push)"),
        new("delivery", "ID", "the X-GitHub-Delivery (default a new GUID)"),
        new("form", null, "send as application/x-www-form-urlencoded (payload=...) instead of JSON"),
        new("file", "PAYLOAD.json", "the payload to send; without it a push is made from the options below"),
        new("repo", "OWNER/NAME", "repository of the synthesized push"),
        new("ref", "REF", "ref of the synthesized push, e.g. refs/heads/main"),
        new("revision", "SHA", "the pushed commit ('after')"),
        new("before", "SHA", "the commit before the push (default: a new branch)"),
        new("default-branch", "NAME", "the repository's default branch (default main)"),
    ];

    public static async Task<int> RunAsync(CommandArgs args, TextWriter output, TextWriter error)
    {
        var url = args.Optional("url") ?? TriggerApp.DefaultUrl + "/webhooks/github";
        var secret = args.Optional("secret") ?? Environment.GetEnvironmentVariable("WEBHOOK_SECRET");
        var eventType = args.Optional("event") ?? "push";
        if (!GitHubEventReader.KnownEvents.Contains(eventType))
        {
            throw new UsageException($"--event: '{eventType}' is not an event type this service knows ({string.Join(", ", GitHubEventReader.KnownEvents)})");
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var target) || target.Scheme is not ("http" or "https"))
        {
            await error.WriteLineAsync($"send: '{url}' is not an http or https URL");
            return 1;
        }

        var delivery = args.Optional("delivery") ?? Guid.NewGuid().ToString();
        var json = args.Optional("file") is { } file
            ? await InputFile.ReadAsync(file, new WebhookOptions().MaxPayloadBytes, "the most GitHub sends")
            : Encoding.UTF8.GetBytes(SyntheticPush(args).ToJsonString());
        var body = args.Flag("form")
            ? Encoding.UTF8.GetBytes("payload=" + Uri.EscapeDataString(Encoding.UTF8.GetString(json)))
            : json;

        using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(args.Flag("form") ? "application/x-www-form-urlencoded" : "application/json");
        request.Headers.Add(GitHubHeaders.Event, eventType);
        request.Headers.Add(GitHubHeaders.Delivery, delivery);
        request.Headers.UserAgent.ParseAdd("GitHub-Hookshot/k8s-webhook-handler-send");
        if (!string.IsNullOrEmpty(secret))
        {
            request.Headers.Add(GitHubHeaders.Signature, GitHubSignature.Sign(body, Encoding.UTF8.GetBytes(secret)));
        }

        using var http = new HttpClient { Timeout = Timeout };
        try
        {
            using var response = await http.SendAsync(request);
            await output.WriteLineAsync($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync($"send: {url}: {e.Message}");
            return 1;
        }
        catch (TaskCanceledException)
        {
            await error.WriteLineAsync($"send: {url}: no answer within {Timeout.TotalSeconds:0} s");
            return 1;
        }
    }

    /// <summary>The fields of a push payload the service reads, for a quick trial without a payload file.</summary>
    public static JsonObject SyntheticPush(CommandArgs args)
    {
        var repo = args.Required("repo");
        if (!Names.IsRepository(repo))
        {
            throw new UsageException($"--repo: '{repo}' is not OWNER/NAME");
        }

        var (owner, name) = Names.SplitRepository(repo);
        return new JsonObject
        {
            ["ref"] = args.Required("ref"),
            ["before"] = args.Optional("before") ?? new string('0', 40),
            ["after"] = args.Required("revision"),
            ["created"] = args.Optional("before") is null,
            ["deleted"] = false,
            ["repository"] = new JsonObject
            {
                ["full_name"] = repo,
                ["name"] = name,
                ["owner"] = new JsonObject { ["login"] = owner },
                ["git_url"] = $"git://github.com/{repo}.git",
                ["ssh_url"] = $"git@github.com:{repo}.git",
                ["clone_url"] = $"https://github.com/{repo}.git",
                ["default_branch"] = args.Optional("default-branch") ?? "main",
            },
            ["sender"] = new JsonObject { ["login"] = owner },
        };
    }
}

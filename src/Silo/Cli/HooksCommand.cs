using System.Net;
using CiTrigger.Gateway.Events;
using CiTrigger.Gateway.Forges.GitHub;
using CiTrigger.Gateway.Webhooks;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.GitHub;
using Octokit;

namespace CiTrigger.Silo.Cli;

/// <summary>
/// <c>hooks install</c> creates the webhook that sends a repository's (or an organization's) events to the
/// service, or updates the one with the same URL in place, and prints its id; <c>hooks list</c> shows the
/// webhooks with their last delivery. Both need a token with admin rights on the repository or organization.
/// </summary>
public static class HooksCommand
{
    private static readonly CommandOption[] Common =
    [
        new("repo", "OWNER/NAME", "the repository whose webhooks these are (or --org)"),
        new("org", "NAME", "the organization whose webhooks these are (or --repo)"),
        new("token", "TOKEN", "a token with admin rights there (default: GITHUB_TOKEN or GitHub:Token)"),
    ];

    public static readonly IReadOnlyList<CommandOption> InstallOptions =
    [
        .. Common,
        new("url", "URL", "where GitHub sends the events: the service's /webhook", Required: true),
        new("events", "LIST", "comma-separated event types (default: Handler:Events, the handled ones)"),
    ];

    public static readonly IReadOnlyList<CommandOption> ListOptions = Common;

    public static Task<int> InstallAsync(CommandArgs args, TextWriter output, TextWriter error) =>
        RunAsync("hooks install", args, error, configuration => UnknownEvents(args, configuration), async (client, target, configuration) =>
        {
            var url = args.Required("url");
            if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
            {
                throw new UsageException($"--url '{url}' is not an absolute http(s) URL");
            }

            var webhook = configuration.GetSection(WebhookOptions.Section).Get<WebhookOptions>() ?? new WebhookOptions();
            var secret = OptionsValidation.SplitList(string.IsNullOrWhiteSpace(webhook.Secrets) ? configuration["WEBHOOK_SECRET"] : webhook.Secrets).FirstOrDefault()
                ?? throw new UsageException("no webhook secret is configured (WEBHOOK_SECRET or --Webhook:Secrets=...); GitHub would send unsigned webhooks the service refuses");
            var events = Events(args, configuration);
            var body = new HookRequest
            {
                Config = new Dictionary<string, string> { ["url"] = url, ["content_type"] = "json", ["secret"] = secret, ["insecure_ssl"] = "0" },
                Events = events,
                Active = true,
            };

            var existing = (await client.Connection.Get<List<HookInfo>>(target.Hooks, new Dictionary<string, string> { ["per_page"] = "100" })).Body
                .FirstOrDefault(h => h.Config.TryGetValue("url", out var u) && u == url);
            HookInfo hook;
            if (existing is null)
            {
                body.Name = "web";
                hook = (await client.Connection.Post<HookInfo>(target.Hooks, body, "application/vnd.github+json", "application/json")).Body;
            }
            else
            {
                hook = (await client.Connection.Patch<HookInfo>(new Uri($"{target.Hooks}/{existing.Id}", UriKind.Relative), body)).Body;
            }

            await output.WriteLineAsync(hook.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await error.WriteLineAsync($"{(existing is null ? "created" : "updated")} webhook {hook.Id} of {target.Name}: {url}, events {string.Join(",", events)}, JSON, signed, active");
        });

    private static List<string> Events(CommandArgs args, IConfiguration configuration) =>
        OptionsValidation.SplitList(args.Optional("events") ?? (configuration.GetSection(FilterOptions.Section).Get<FilterOptions>() ?? new FilterOptions()).Events).ToList();

    /// <summary>
    /// A webhook for an event the service does not handle would only bring deliveries it ignores, and a
    /// misspelt name would silently drop the one meant: such a list is refused before GitHub is asked.
    /// </summary>
    private static string? UnknownEvents(CommandArgs args, IConfiguration configuration)
    {
        var source = args.Optional("events") is null ? $"{FilterOptions.Section}:Events" : "--events";
        var events = Events(args, configuration);
        var unknown = events.Where(e => !GitHubEventReader.SupportedEvents.Contains(e)).Select(e => $"'{e}'").ToList();
        return unknown.Count > 0
            ? $"{source}: {string.Join(", ", unknown)} {(unknown.Count == 1 ? "is not an event" : "are not events")} the service handles (known: {string.Join(", ", GitHubEventReader.SupportedEvents)})"
            : events.Count == 0 ? $"{source}: name at least one event" : null;
    }

    public static Task<int> ListAsync(CommandArgs args, TextWriter output, TextWriter error) =>
        RunAsync("hooks list", args, error, _ => null, async (client, target, _) =>
        {
            var hooks = (await client.Connection.Get<List<HookInfo>>(target.Hooks, new Dictionary<string, string> { ["per_page"] = "100" })).Body;
            foreach (var hook in hooks)
            {
                var last = (await client.Connection.Get<List<HookDeliveryItem>>(new Uri($"{target.Hooks}/{hook.Id}/deliveries", UriKind.Relative),
                    new Dictionary<string, string> { ["per_page"] = "1" })).Body.FirstOrDefault();
                var delivery = last is null ? "no deliveries" : $"last delivery {last.DeliveredAt:u} {last.Event}: {(last.StatusCode == 0 ? "no answer" : last.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture))}";
                await output.WriteLineAsync($"{hook.Id}\t{(hook.Active ? "active" : "inactive")}\t{hook.Config.GetValueOrDefault("url")}\t{string.Join(",", hook.Events)}\t{delivery}");
            }

            if (hooks.Count == 0)
            {
                await error.WriteLineAsync($"{target.Name} has no webhooks");
            }
        });

    private sealed record Target(string Name, Uri Hooks, string Kind);

    /// <summary>Reads the configuration and the target, refuses what is wrong before GitHub is asked, then runs the command.</summary>
    /// <param name="command">The command's name, the start of every line it prints.</param>
    /// <param name="args">The command line.</param>
    /// <param name="error">Where problems are reported.</param>
    /// <param name="refusal">What is wrong with the command's own values; null when nothing is.</param>
    /// <param name="run">The command itself.</param>
    private static async Task<int> RunAsync(string command, CommandArgs args, TextWriter error, Func<IConfiguration, string?> refusal, Func<IGitHubClient, Target, IConfiguration, Task> run)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine([.. args.Configuration])
            .Build();
        var target = (args.Optional("repo"), args.Optional("org")) switch
        {
            ({ } repo, null) when Names.IsRepository(repo) => new Target(repo, new Uri($"repos/{repo}/hooks", UriKind.Relative), "repository"),
            ({ } repo, null) => throw new UsageException($"--repo '{repo}' is not owner/name"),
            (null, { Length: > 0 } org) when !org.Contains('/', StringComparison.Ordinal) => new Target(org, new Uri($"orgs/{Uri.EscapeDataString(org)}/hooks", UriKind.Relative), "organization"),
            _ => throw new UsageException("give either --repo owner/name or --org name"),
        };
        var github = configuration.GetSection(GitHubOptions.Section).Get<GitHubOptions>() ?? new GitHubOptions();
        if (github.Validate().FirstOrDefault() is { } invalid)
        {
            await error.WriteLineAsync($"{command}: configuration error: {invalid}");
            return 2;
        }

        if (refusal(configuration) is { } refused)
        {
            await error.WriteLineAsync($"{command}: {refused}");
            return 2;
        }

        var token = args.Optional("token") ?? (string.IsNullOrEmpty(github.Token) ? configuration["GITHUB_TOKEN"] : github.Token);
        if (string.IsNullOrEmpty(token))
        {
            throw new UsageException("a token with admin rights is needed: GITHUB_TOKEN, --GitHub:Token=... or --token");
        }

        try
        {
            await run(GitHubClientFactory.Create(github, token, 1 << 20), target, configuration);
            return 0;
        }
        catch (ApiException e)
        {
            await error.WriteLineAsync($"{command}: {Explain(e, target)}");
            return 1;
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync($"{command}: GitHub could not be reached at {github.ApiBase}: {e.Message}");
            return 1;
        }
    }

    private static string Explain(ApiException e, Target target) => e.StatusCode switch
    {
        HttpStatusCode.Unauthorized => "GitHub answered 401: the token is missing, wrong or expired",
        HttpStatusCode.Forbidden => $"GitHub answered 403 for {target.Kind} {target.Name}: the token may not manage its webhooks " +
            $"(it needs admin rights there: the {(target.Kind == "repository" ? "admin:repo_hook" : "admin:org_hook")} scope, or \"Webhooks: write\" for a fine-grained token)",
        HttpStatusCode.NotFound => $"GitHub answered 404 for {target.Kind} {target.Name}: it does not exist, or the token cannot see its webhooks (that takes admin rights on it)",
        _ => $"GitHub answered {(int)e.StatusCode} for {target.Kind} {target.Name}: {e.Message}",
    };

    /// <summary>A webhook as GitHub lists it.</summary>
    public sealed class HookInfo
    {
        public long Id { get; set; }

        public bool Active { get; set; }

        public List<string> Events { get; set; } = [];

        public Dictionary<string, string> Config { get; set; } = [];
    }

    /// <summary>What <c>hooks install</c> sends: GitHub's create and edit bodies.</summary>
    public sealed class HookRequest
    {
        public string? Name { get; set; }

        public Dictionary<string, string> Config { get; set; } = [];

        public List<string> Events { get; set; } = [];

        public bool Active { get; set; }
    }
}

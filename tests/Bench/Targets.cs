using System.Text;
using System.Text.Json;
using CiTrigger.Gateway.Forges;
using CiTrigger.Gateway.Forges.GitHub;
using CiTrigger.Gateway.Webhooks;
using CiTrigger.Silo;
using CiTrigger.Tests.Fakes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CiTrigger.Bench;

/// <summary>Something the load generator can send webhooks to.</summary>
public interface ITarget : IAsyncDisposable
{
    string Name { get; }

    Uri Address { get; }
}

/// <summary>
/// The baselines: a bare Kestrel endpoint that does what any webhook receiver must (read the body,
/// verify the HMAC, parse the same fields) and answers 202, optionally after one durable write of its
/// own into the same kind of store the service uses.
/// </summary>
public sealed class Baseline : ITarget
{
    private static readonly byte[][] Secrets = [Encoding.UTF8.GetBytes(Webhooks.Secret)];
    private readonly WebApplication app;
    private readonly IAsyncDisposable? store;

    private Baseline(string name, WebApplication app, IAsyncDisposable? store)
    {
        Name = name;
        this.app = app;
        this.store = store;
    }

    public string Name { get; }

    public Uri Address => new(app.Urls.First());

    /// <summary>B: verify, parse, answer.</summary>
    public static Task<Baseline> BareAsync() => StartAsync("B   bare Kestrel: HMAC + parse", null, null);

    /// <summary>D: B plus one SQLite WAL insert per request in its own transaction, synchronous=FULL like the service's store.</summary>
    public static async Task<Baseline> SqliteAsync(string directory)
    {
        var path = Path.Combine(directory, "baseline.db");
        var cs = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ConnectionString;
        await using (var setup = new SqliteConnection(cs))
        {
            await setup.OpenAsync();
            await using var command = setup.CreateCommand();
            command.CommandText = "PRAGMA journal_mode = WAL; CREATE TABLE IF NOT EXISTS events (delivery TEXT PRIMARY KEY, key TEXT NOT NULL, body BLOB NOT NULL) WITHOUT ROWID;";
            await command.ExecuteNonQueryAsync();
        }

        return await StartAsync("D   B + SQLite WAL insert/request", async (delivery, key, body) =>
        {
            await using var connection = new SqliteConnection(cs);
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000; BEGIN IMMEDIATE; INSERT INTO events VALUES ($d, $k, $b); COMMIT;";
            command.Parameters.AddWithValue("$d", delivery);
            command.Parameters.AddWithValue("$k", key);
            command.Parameters.AddWithValue("$b", body);
            await command.ExecuteNonQueryAsync();
        }, null);
    }

    /// <summary>D: B plus one Redis append (RPUSH) per request.</summary>
    public static async Task<Baseline> RedisAsync(string connectionString)
    {
        var redis = await ConnectionMultiplexer.ConnectAsync(connectionString);
        var db = redis.GetDatabase();
        return await StartAsync("D   B + Redis RPUSH/request", async (_, key, body) => await db.ListRightPushAsync("baseline:" + key, body), redis);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        if (store is not null)
        {
            await store.DisposeAsync();
        }
    }

    private static async Task<Baseline> StartAsync(string name, Func<string, string, byte[], Task>? write, IAsyncDisposable? store)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapPost("/webhooks/github", async (HttpContext http) =>
        {
            using var buffer = new MemoryStream((int)(http.Request.ContentLength ?? 8192));
            await http.Request.Body.CopyToAsync(buffer);
            var body = buffer.ToArray();
            if (!GitHubSignature.Verify(body, http.Request.Headers[GitHubHeaders.Signature], Secrets).IsValid)
            {
                return Results.StatusCode(401);
            }

            var delivery = http.Request.Headers[GitHubHeaders.Delivery].ToString();
            using var document = JsonDocument.Parse(body);
            if (GitHubEventReader.Read(http.Request.Headers[GitHubHeaders.Event].ToString(), delivery, document.RootElement, DateTimeOffset.UtcNow)
                is not EventReadResult.Accepted accepted)
            {
                return Results.StatusCode(400);
            }

            if (write is not null)
            {
                await write(delivery, accepted.Event.Key, body);
            }

            return Results.Json(new WebhookAnswer("queued", delivery, accepted.Event.Key, null), WebhookAnswer.Json, statusCode: 202);
        });
        await app.StartAsync();
        return new Baseline(name, app, store);
    }
}

/// <summary>The service itself, in this process, against the loopback fakes.</summary>
public sealed class Service : ITarget
{
    private readonly WebApplication app;

    private Service(string name, WebApplication app)
    {
        Name = name;
        this.app = app;
    }

    public string Name { get; }

    public Uri Address => new(app.Urls.First());

    public IServiceProvider Services => app.Services;

    public static async Task<Service> StartAsync(string name, FakeGitHubApi github, FakeKubernetesApi kubernetes, string directory, string? redis, IDictionary<string, string>? extra = null)
    {
        var settings = ServiceSettings.Combine(new Dictionary<string, string>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Orleans:DataPath"] = directory,
            ["Orleans:SiloPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:ServiceId"] = "bench-" + Guid.NewGuid().ToString("N")[..8],
        }, Common(github, kubernetes, directory), redis is null ? null : ServiceSettings.RedisSilo(redis), extra);
        var app = TriggerApp.Create([.. settings.Select(kv => $"--{kv.Key}={kv.Value}")]);
        await app.StartAsync();
        return new Service(name, app);
    }

    /// <summary>
    /// What every service the benchmark starts is given: the fakes, the shared fast retries (the production
    /// reminder period and reorder window stay), and no giving up, since fault runs count every event. The
    /// single-file mode (<c>Handler:ManifestPath</c>) unless the fake GitHub serves pipelines.
    /// </summary>
    public static Dictionary<string, string> Common(FakeGitHubApi github, FakeKubernetesApi kubernetes, string directory) =>
        ServiceSettings.Combine(new Dictionary<string, string>
        {
            ["Webhook:Secrets"] = Webhooks.Secret,
            ["GitHub:BaseUrl"] = github.BaseAddress.ToString(),
            ["Kubernetes:KubeConfig"] = kubernetes.WriteKubeConfig(directory),
            ["Handler:MaxAttempts"] = "1000",
            ["Logging:LogLevel:Default"] = Environment.GetEnvironmentVariable("BENCH_LOG") ?? "Error",
        }, github.AnyPipelines is null ? ServiceSettings.SingleFile : null, ServiceSettings.FastRetry);

    /// <summary>
    /// What a silo process (<see cref="SiloProcess"/>) must be told besides <see cref="Common"/>: the pipeline mode when
    /// the fake GitHub serves pipelines (it adds the single-file mode otherwise).
    /// </summary>
    public static IReadOnlyDictionary<string, string>? SiloMode(FakeGitHubApi github) =>
        github.AnyPipelines is null ? null : new Dictionary<string, string> { [SiloProcess.PipelineMode] = "true" };

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

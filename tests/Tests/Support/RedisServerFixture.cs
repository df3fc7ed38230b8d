using CiTrigger.Tests.Fakes;
using Xunit;

namespace CiTrigger.Tests.Support;

/// <summary>One real <c>redis-server</c> for all tests of a class (<c>IClassFixture</c>); each test keeps to keys of its own.</summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Server = await RedisServer.StartAsync();

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}

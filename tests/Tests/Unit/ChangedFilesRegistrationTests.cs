using CiTrigger.Grains.GitHub;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>The app registers GitHub's services and then the local manifests' (TriggerApp's order): one IChangedFiles either way.</summary>
public class ChangedFilesRegistrationTests
{
    private static ServiceDescriptor Registered(string? localManifests)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Handler:LocalManifests"] = localManifests })
            .Build();
        var services = new ServiceCollection();
        services.AddGitHub(configuration);
        services.AddLocalManifests(configuration);
        return Assert.Single(services, s => s.ServiceType == typeof(IChangedFiles));
    }

    [Fact]
    public void GitHub_answers_which_files_an_event_changed()
    {
        Assert.Equal(typeof(GitHubChangedFiles), Registered(null).ImplementationType);
    }

    [Fact]
    public void With_local_manifests_no_events_changed_files_are_known()
    {
        Assert.Equal(typeof(UnknownChangedFiles), Registered(Path.GetTempPath()).ImplementationType);
    }
}

namespace CiTrigger.Gateway.Ui;

/// <summary>Addresses of the status page's pages, under the request's path base.</summary>
public sealed class UiPaths(string pathBase)
{
    public const string Root = "/ui";

    public string Overview => pathBase + Root;

    public string Events => pathBase + Root + "/events";

    public string Asset(string name, string version) => $"{pathBase}{Root}/assets/{name}?v={version}";

    /// <summary>A ref's page; each segment escaped, so a ref with "#", "?" or "%" still names itself.</summary>
    public string Ref(string repository, string gitRef) =>
        $"{pathBase}{Root}/repos/{Escape(repository)}/{Escape(gitRef)}";

    /// <summary>A repository's page: its Repository resource, settings, runs and refs.</summary>
    public string Repository(string repository) => $"{pathBase}{Root}/repos/{Escape(repository)}";

    /// <summary>The overview's list of Repository resources.</summary>
    public string Repositories => Overview + "#repositories";

    public string Delivery(string delivery) => $"{pathBase}{Root}/deliveries/{Uri.EscapeDataString(delivery)}";

    public string RepositoryFilter(string repository) => $"{Overview}?repo={Uri.EscapeDataString(repository)}";

    private static string Escape(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
}

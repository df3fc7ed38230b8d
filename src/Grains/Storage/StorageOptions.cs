namespace CiTrigger.Grains.Storage;

/// <summary>Where a silo keeps grain state, reminders and the ref catalog, chosen apart from how silos find each other.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";
    public const string ProviderKey = Section + ":" + nameof(Provider);

    /// <summary>The name of one of <see cref="StorageBackends.All"/>; unset, the one the clustering implies.</summary>
    public string? Provider { get; set; }
}

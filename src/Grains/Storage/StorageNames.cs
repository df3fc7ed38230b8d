namespace CiTrigger.Grains.Storage;

/// <summary>Names under which the grains' state is registered and stored; every storage backend registers these.</summary>
public static class StorageNames
{
    /// <summary>The grain storage of refs and repositories.</summary>
    public const string Refs = "refs";
}

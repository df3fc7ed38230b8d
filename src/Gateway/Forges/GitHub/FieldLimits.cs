using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Gateway.Forges.GitHub;

/// <summary>
/// The longest value, in UTF-16 characters, that the service keeps of each payload field. A signed payload
/// may still carry megabytes in one field; what is kept travels into a ref's queue, its history and every
/// annotation, so a longer value is refused (400) rather than stored.
/// </summary>
public static class FieldLimits
{
    /// <summary><c>repository.full_name</c>: GitHub allows 39 characters of owner and 100 of name.</summary>
    public const int Repository = Names.MaxRepositoryLength;

    /// <summary><c>ref</c> of a push: a full ref name.</summary>
    public const int Ref = Names.MaxRefLength;

    /// <summary>Branch and tag names (<c>default_branch</c>, <c>head_branch</c>, a delete's <c>ref</c>), before their <c>refs/…/</c> prefix.</summary>
    public const int Branch = 1000;

    /// <summary><c>clone_url</c>, <c>git_url</c>, <c>ssh_url</c>.</summary>
    public const int Url = 2048;

    /// <summary><c>action</c>, <c>ref_type</c>.</summary>
    public const int Word = 64;

    /// <summary>Commit ids: 40 hex digits, or 64 in SHA-256 repositories.</summary>
    public const int Sha = 64;
}

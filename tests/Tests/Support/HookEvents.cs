using System.Globalization;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Tests.Support;

/// <summary>Events of one ref (<c>octo/app</c>, <c>refs/heads/main</c>) for tests of the ref's parts, numbered so that push n continues push n-1.</summary>
public static class HookEvents
{
    public const string Repository = "octo/app";
    public const string Ref = "refs/heads/main";

    public static string Key => RefKey.For(ForgeNames.GitHub, Repository, Ref);

    /// <summary>Commit n's id; never all zeros, which GitHub reserves for "no commit".</summary>
    public static string Sha(int n) => (n + 1).ToString("x40", CultureInfo.InvariantCulture);

    /// <summary>Delivery <c>d{n}</c>: a push from commit n-1 (none for n = 0) to commit n.</summary>
    public static HookEvent Push(int n) =>
        new($"d{n}", "push", "", Repository, "", "", Ref, Sha(n), n == 0 ? new string('0', 40) : Sha(n - 1), "main", false, DateTimeOffset.UnixEpoch);

    public static PendingEvent Pending(int n) => new(Push(n), DateTimeOffset.UnixEpoch);
}

using System.Text.RegularExpressions;

namespace CiTrigger.Grains.Manifests;

public static partial class KubernetesNames
{
    /// <summary>RFC 1123 label, as Kubernetes requires of namespace names.</summary>
    public static bool IsDnsLabel(string value) => value.Length <= 63 && DnsLabel().IsMatch(value);

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\z")]
    private static partial Regex DnsLabel();
}

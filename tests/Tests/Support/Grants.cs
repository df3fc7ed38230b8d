using k8s;
using k8s.Autorest;
using k8s.Models;

namespace CiTrigger.Tests.Support;

/// <summary>Further kinds granted to the service the way docs/install.md tells users to.</summary>
public static class Grants
{
    /// <summary>
    /// A Role and RoleBinding of its own for <paramref name="serviceAccount"/> on one resource; granting the same
    /// resource again changes nothing.
    /// </summary>
    public static async Task GrantAsync(IKubernetes admin, string @namespace, string serviceAccount, string group, string plural, params string[] verbs)
    {
        var name = $"k8s-webhook-handler-{plural}-{(group.Length == 0 ? "core" : group.Split('.')[0])}";
        try
        {
            await admin.RbacAuthorizationV1.CreateNamespacedRoleAsync(new V1Role
            {
                Metadata = new V1ObjectMeta { Name = name },
                Rules = [new V1PolicyRule { ApiGroups = [group], Resources = [plural], Verbs = verbs }],
            }, @namespace);
            await admin.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(new V1RoleBinding
            {
                Metadata = new V1ObjectMeta { Name = name },
                RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "Role", Name = name },
                Subjects = [new Rbacv1Subject { Kind = "ServiceAccount", Name = serviceAccount, NamespaceProperty = @namespace }],
            }, @namespace);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            // Granted before, on the same cluster.
        }
    }
}

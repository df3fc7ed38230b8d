using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>
/// The runs' Git credentials as Secrets of type <c>kubernetes.io/basic-auth</c>: <c>username</c>, <c>password</c>
/// and <c>.git-credentials</c> (the same credential as a line of git's credential store), labelled with the
/// delivery (<see cref="ManifestAnnotator.DeliveryLabel"/>, the value the applier gives the event's objects) and
/// annotated with the delivery and the repository. Created with a POST; a Secret of that name already there is the
/// delivery's own from an earlier attempt when its delivery annotation says so, and then gets the new credential
/// (merge patch of <c>data</c>); any other is refused. The owner is set with a merge patch of
/// <c>metadata.ownerReferences</c>. The Role in k8s/ (rbac.yaml) grants <see cref="Verbs"/> on secrets.
/// </summary>
public sealed class KubernetesRunSecrets(IKubernetes client, IOptions<ManifestOptions> manifests) : IRunSecrets
{
    public const string SecretType = "kubernetes.io/basic-auth";
    public const string UsernameKey = "username";
    public const string PasswordKey = "password";

    /// <summary>The credential store's file name: mount the key as that file and point git's <c>store</c> helper at it.</summary>
    public const string CredentialsKey = ".git-credentials";

    /// <summary>The verbs used on secrets: create, get (an existing one's delivery), patch (its credential, its owner), delete.</summary>
    public static readonly IReadOnlyList<string> Verbs = ["create", "delete", "get", "patch"];

    private static readonly ApiResource Secrets = new("", "v1", "secrets", "Secret", Namespaced: true);

    public bool Enabled => true;

    /// <summary>The Secret as it is created.</summary>
    public static V1Secret Build(RunSecret secret) => new()
    {
        ApiVersion = "v1",
        Kind = "Secret",
        Type = SecretType,
        Metadata = new V1ObjectMeta
        {
            Name = secret.Name,
            NamespaceProperty = secret.Namespace,
            Labels = new Dictionary<string, string> { [ManifestAnnotator.DeliveryLabel] = ManifestAnnotator.LabelValue(secret.Delivery) },
            Annotations = new Dictionary<string, string>
            {
                [ManifestAnnotator.DeliveryAnnotation] = secret.Delivery,
                [ManifestAnnotator.RepositoryAnnotation] = secret.Repository,
            },
        },
        Data = Data(secret.Credential),
    };

    private static Dictionary<string, byte[]> Data(GitCredential credential) => new()
    {
        [UsernameKey] = Encoding.UTF8.GetBytes(credential.Username),
        [PasswordKey] = Encoding.UTF8.GetBytes(credential.Password),
        [CredentialsKey] = Encoding.UTF8.GetBytes(credential.StoreLine + "\n"),
    };

    public async Task CreateAsync(RunSecret secret, CancellationToken cancellationToken)
    {
        var what = $"creating Secret {secret.Namespace}/{secret.Name} for the run's Git credential";
        await CallAsync(what, "create", secret.Namespace, secret.Name, async () =>
        {
            try
            {
                await client.CoreV1.CreateNamespacedSecretAsync(Build(secret), secret.Namespace, fieldManager: KubernetesManifestApplier.FieldManager,
                    cancellationToken: cancellationToken);
                return;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
            {
                // A create's 409 is AlreadyExists: an earlier attempt at this delivery created it (or its answer was
                // lost). Checked below, then given the new credential.
            }

            var existing = await client.CoreV1.ReadNamespacedSecretAsync(secret.Name, secret.Namespace, cancellationToken: cancellationToken);
            if (existing.Metadata.Annotations?.TryGetValue(ManifestAnnotator.DeliveryAnnotation, out var delivery) != true || delivery != secret.Delivery
                || existing.Type != SecretType)
            {
                throw new PermanentException($"{what}: a Secret of that name exists and is not this delivery's run credential; refused");
            }

            var patch = new JsonObject
            {
                ["data"] = new JsonObject([.. Data(secret.Credential).Select(d => KeyValuePair.Create(d.Key, (JsonNode?)Convert.ToBase64String(d.Value)))]),
            };
            await client.CoreV1.PatchNamespacedSecretAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), secret.Name, secret.Namespace,
                fieldManager: KubernetesManifestApplier.FieldManager, cancellationToken: cancellationToken);
        }, cancellationToken);
    }

    public Task SetOwnerAsync(string secretNamespace, string secretName, AppliedObject owner, CancellationToken cancellationToken)
    {
        if (owner.Namespace != secretNamespace || owner.Uid is not { Length: > 0 } uid)
        {
            throw new ArgumentException($"{owner.Kind} {owner.Namespace}/{owner.Name} cannot own a Secret of namespace {secretNamespace} (owners are of the same namespace, with a uid)", nameof(owner));
        }

        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["ownerReferences"] = new JsonArray(new JsonObject
                {
                    ["apiVersion"] = owner.ApiVersion,
                    ["kind"] = owner.Kind,
                    ["name"] = owner.Name,
                    ["uid"] = uid,
                }),
            },
        };
        return CallAsync($"making {owner.Kind} {owner.Name} the owner of Secret {secretNamespace}/{secretName}", "patch", secretNamespace, secretName,
            () => client.CoreV1.PatchNamespacedSecretAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), secretName, secretNamespace,
                fieldManager: KubernetesManifestApplier.FieldManager, cancellationToken: cancellationToken),
            cancellationToken);
    }

    public Task DeleteAsync(string secretNamespace, string secretName, CancellationToken cancellationToken) =>
        CallAsync($"deleting Secret {secretNamespace}/{secretName}", "delete", secretNamespace, secretName, async () =>
        {
            try
            {
                await client.CoreV1.DeleteNamespacedSecretAsync(secretName, secretNamespace, cancellationToken: cancellationToken);
            }
            catch (Exception e) when (KubernetesFailures.IsNotFound(e))
            {
                // Gone already: deleted by an earlier try, or by the garbage collector with its owner.
            }
        }, cancellationToken);

    /// <summary>Sorts failures as the applier does; a 403 names the Role rule that allows what the Secret needs.</summary>
    private async Task CallAsync(string what, string verb, string @namespace, string name, Func<Task> call, CancellationToken cancellationToken)
    {
        try
        {
            await call();
        }
        catch (HttpOperationException e) when (KubernetesFailures.IsForbidden(e))
        {
            var access = new ApiAccess(verb, Secrets, new ObjectRef(Secrets.ApiVersion, Secrets.Kind, @namespace, name, null));
            throw new PermanentException($"{what}: the API server answered 403: {ApiRefusal.Forbidden(ApiRefusal.StatusMessage(e.Response.Content), access, manifests.Value.Namespace, Verbs)}", e);
        }
        catch (Exception e) when (KubernetesFailures.Classify(e, what, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }
}

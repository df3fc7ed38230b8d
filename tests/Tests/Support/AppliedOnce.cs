using CiTrigger.Tests.Fakes;
using Xunit;

namespace CiTrigger.Tests.Support;

/// <summary>The promise of the service, checked against what the fake cluster really created.</summary>
public static class AppliedOnce
{
    /// <summary>
    /// Each ref's revisions were created exactly once each, in the given order, and every created object
    /// carries the delivery label of its own delivery. Counted are the manifests' documents (annotated with their
    /// index), not the Secrets the service makes for runs' Git credentials.
    /// </summary>
    public static void InOrder(FakeKubernetesApi kubernetes, IReadOnlyDictionary<string, IReadOnlyList<string>> revisionsByRef)
    {
        var created = kubernetes.Creations.Where(o => o["metadata"]!["annotations"]?["k8s-webhook-handler.io/document"] is not null).Select(o =>
        {
            var annotations = o["metadata"]!["annotations"]!;
            return (Ref: annotations["k8s-webhook-handler.io/ref"]!.GetValue<string>(),
                Revision: annotations["k8s-webhook-handler.io/revision"]!.GetValue<string>(),
                Delivery: annotations["k8s-webhook-handler.io/delivery"]!.GetValue<string>(),
                Label: o["metadata"]!["labels"]!["k8s-webhook-handler.io/delivery"]!.GetValue<string>());
        }).ToList();

        foreach (var (gitRef, revisions) in revisionsByRef)
        {
            Assert.Equal(revisions, created.Where(c => c.Ref == gitRef).Select(c => c.Revision));
        }

        Assert.All(created, c => Assert.Equal(c.Delivery, c.Label));
        Assert.Equal(created.Count, created.Select(c => c.Delivery).Distinct().Count());
    }
}

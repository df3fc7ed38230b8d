namespace CiTrigger.Tests.Fakes;

/// <summary>The <c>.ci/workflow.yaml</c> the tests commit and the benchmark serves: an Argo Workflow that builds the event's revision.</summary>
public static class SampleManifest
{
    public const string Workflow = """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata:
          generateName: ci-
          annotations:
            team: platform
        spec:
          entrypoint: build
          templates:
          - name: build
            container:
              image: golang:1.22
              args: ["{{workflow.annotations.k8s-webhook-handler.io/revision}}"]
        """;
}

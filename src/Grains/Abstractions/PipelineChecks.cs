namespace CiTrigger.Grains.Abstractions;

/// <summary>How a pipeline's check is named and found again.</summary>
public static class PipelineChecks
{
    /// <summary><c>GitHub:StatusContext</c>'s default: the name of an event's check, and the first part of a pipeline's.</summary>
    public const string DefaultContext = "k8s-webhook-handler";

    /// <summary>The check's (or commit status') name: the context alone in single-file mode.</summary>
    public static string Name(string context, string? pipeline) => pipeline is null ? context : context + "/" + pipeline;

    /// <summary>The check run's <c>external_id</c>: the delivery, followed by the pipeline in pipeline mode.</summary>
    public static string ExternalId(string delivery, string? pipeline) => pipeline is null ? delivery : delivery + "/" + pipeline;

    /// <summary>
    /// The delivery and pipeline an <c>external_id</c> made by <see cref="ExternalId"/> names; null for any other value
    /// (another App's, or one that is no delivery id and pipeline name).
    /// </summary>
    public static (string Delivery, string? Pipeline)? ParseExternalId(string id) =>
        Names.IsDeliveryId(id) ? (id, null)
        : id.LastIndexOf('/') is var slash and > 0 && Names.IsDeliveryId(id[..slash]) && Names.IsPipeline(id[(slash + 1)..]) ? (id[..slash], id[(slash + 1)..])
        : null;
}

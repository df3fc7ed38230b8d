namespace CiTrigger.Grains.Abstractions;

/// <summary>The service's own meter, which the gateway's and the processing side's instruments share.</summary>
public static class MeterNames
{
    public const string Service = "CiTrigger";
}

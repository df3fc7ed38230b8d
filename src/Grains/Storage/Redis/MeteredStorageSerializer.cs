using CiTrigger.Grains.Telemetry;
using Orleans.Storage;

namespace CiTrigger.Grains.Storage.Redis;

/// <summary>
/// Orleans' Redis grain storage serializes a grain's state once per write, so its serializer is where that
/// provider's writes can be counted (<see cref="StoreMetrics"/>): one write and the state's bytes per
/// <see cref="Serialize"/>. Its key, its ETag and a cleared state (a DEL) are not seen here.
/// </summary>
public sealed class MeteredStorageSerializer(IGrainStorageSerializer inner, StoreMetrics metrics) : IGrainStorageSerializer
{
    public BinaryData Serialize<T>(T? input)
    {
        var data = inner.Serialize(input);
        metrics.Written(StoreMetrics.Redis, 1, data.Length);
        return data;
    }

    public T? Deserialize<T>(BinaryData input) => inner.Deserialize<T>(input);
}


namespace CiTrigger.Grains.Abstractions;

/// <summary>The logging scope of one delivery, so every line it causes can be found by its id.</summary>
public static class EventScope
{
    public static Dictionary<string, object> Of(HookEvent e) => new(StringComparer.Ordinal)
    {
        ["Delivery"] = e.Delivery,
        ["Repository"] = e.Repository,
        ["Ref"] = e.Ref,
        ["Revision"] = e.Revision,
    };
}

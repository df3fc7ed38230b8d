namespace CiTrigger.Grains.Pipeline;

/// <summary>
/// The event may not start a run yet: its repository's <c>concurrencyLimit</c> is reached. Neither transient nor
/// permanent: the attempt does not count, and the ref waits until the repository hands it the slot.
/// </summary>
public sealed class WaitingForRunSlotException(string message) : Exception(message);

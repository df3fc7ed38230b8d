namespace CiTrigger.Grains.Pipeline;

/// <summary>
/// A pull request event that none of the users it depends on may vouch for (no write access): it is not a
/// failure but waits for an approval, like an untrusted author's event. Never retried.
/// </summary>
public sealed class ApprovalRequiredException(string message) : PermanentException(message);

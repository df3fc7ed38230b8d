namespace CiTrigger.Grains.Pipeline;

/// <summary>
/// A failure that another attempt would meet again (a 404, a refusal, a validation error): recorded at
/// once, never retried. Anything else, including failures nobody classified, counts as transient.
/// </summary>
public class PermanentException(string message, Exception? inner = null) : Exception(message, inner);

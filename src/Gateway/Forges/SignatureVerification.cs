namespace CiTrigger.Gateway.Forges;

/// <summary>How a webhook's signature compares with the configured secrets.</summary>
public enum SignatureCheck
{
    Valid,
    Missing,
    Malformed,
    Mismatch,
}

/// <summary>A forge's verdict on a webhook's signature: valid, or why the webhook is refused (401), in the forge's words.</summary>
public sealed record SignatureVerification(SignatureCheck Check, string Reason)
{
    public static readonly SignatureVerification Valid = new(SignatureCheck.Valid, "");

    public bool IsValid => Check == SignatureCheck.Valid;
}

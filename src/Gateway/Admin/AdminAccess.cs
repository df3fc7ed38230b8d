using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace CiTrigger.Gateway.Admin;

/// <summary>
/// The admin rule of the design: with <c>Admin:Token</c> set, every caller must present it as a bearer
/// token; without one, only loopback callers are served.
/// </summary>
public sealed class AdminAccess(IOptions<AdminOptions> options)
{
    /// <summary>Null when the caller may proceed, otherwise the answer to give.</summary>
    public IResult? Check(HttpContext http)
    {
        if (options.Value.Token is { Length: > 0 } token)
        {
            var header = http.Request.Headers.Authorization.ToString();
            const string Scheme = "Bearer ";
            var presented = header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? header[Scheme.Length..].Trim() : "";
            if (CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(token)))
            {
                return null;
            }

            http.Response.Headers.WWWAuthenticate = "Bearer";
            return AdminResults.Refused(StatusCodes.Status401Unauthorized, "a valid bearer token (Admin:Token) is required");
        }

        return http.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address)
            ? null
            : AdminResults.Refused(StatusCodes.Status403Forbidden, "without Admin:Token the admin API answers loopback callers only");
    }
}

/// <summary>Applies <see cref="AdminAccess"/> to an endpoint group.</summary>
public sealed class AdminAccessFilter(AdminAccess access) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        access.Check(context.HttpContext) ?? await next(context);
}

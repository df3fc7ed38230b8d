using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CiTrigger.Tests.Fakes;

namespace CiTrigger.Tests.RealCluster;

/// <summary>
/// Debian's etcd and a kube-apiserver v1.20.2 built from Debian's source (tests/kube/build-apiserver.sh) on
/// loopback ports: TLS with a CA of its own, static bearer tokens, RBAC, no anonymous access, and a
/// service-account signing key so the TokenRequest API issues real service-account tokens. No controller
/// manager, no scheduler, no kubelet.
/// </summary>
public sealed class KubeApiServer : IAsyncDisposable
{
    /// <summary>Set by test.sh to the binary build-apiserver.sh printed.</summary>
    public const string BinaryVariable = "CITRIGGER_KUBE_APISERVER";

    public const string Issuer = "https://kubernetes.default.svc.cluster.local";

    private readonly GuardedProcess etcd;
    private readonly GuardedProcess apiserver;

    private KubeApiServer(string directory, GuardedProcess etcd, GuardedProcess apiserver, int port, string adminToken, X509Certificate2 ca)
    {
        Directory = directory;
        this.etcd = etcd;
        this.apiserver = apiserver;
        Url = new Uri($"https://127.0.0.1:{port}");
        AdminToken = adminToken;
        Ca = ca;
    }

    /// <summary>Keys, certificates, tokens and logs of this server.</summary>
    public string Directory { get; }

    public Uri Url { get; }

    /// <summary>A static token in group <c>system:masters</c>.</summary>
    public string AdminToken { get; }

    public X509Certificate2 Ca { get; }

    public string CaPath => Path.Combine(Directory, "ca.crt");

    /// <summary>The binary test.sh built, or the build script's default cache; a clear failure when neither exists.</summary>
    public static string Binary()
    {
        var configured = Environment.GetEnvironmentVariable(BinaryVariable);
        var path = string.IsNullOrEmpty(configured)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "citrigger-kube", "kube-apiserver-v1.20.2")
            : configured;
        return File.Exists(path)
            ? path
            : throw new InvalidOperationException(
                $"kube-apiserver not found at {path}: run tests/kube/build-apiserver.sh (./test.sh does) to build it from Debian's source, or set {BinaryVariable}");
    }

    public static async Task<KubeApiServer> StartAsync()
    {
        var binary = Binary();
        var directory = System.IO.Directory.CreateTempSubdirectory("citrigger-kube-").FullName;
        var adminToken = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        await File.WriteAllTextAsync(Path.Combine(directory, "tokens.csv"), $"{adminToken},admin,admin,\"system:masters\"\n");
        using (var serviceAccountKey = RSA.Create(2048))
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "sa.key"), serviceAccountKey.ExportRSAPrivateKeyPem());
        }

        var ca = WriteCertificates(directory);
        GuardedProcess? etcd = null;
        GuardedProcess? apiserver = null;
        try
        {
            var clientPort = FreePorts.Next();
            var peerPort = FreePorts.Next();
            etcd = await GuardedProcess.StartAsync("etcd",
            [
                "--name=citrigger", $"--data-dir={EtcdDataDirectory(directory)}",
                $"--listen-client-urls=http://127.0.0.1:{clientPort}", $"--advertise-client-urls=http://127.0.0.1:{clientPort}",
                $"--listen-peer-urls=http://127.0.0.1:{peerPort}", $"--initial-advertise-peer-urls=http://127.0.0.1:{peerPort}",
                $"--initial-cluster=citrigger=http://127.0.0.1:{peerPort}", "--logger=zap", "--log-level=warn",
            ], Path.Combine(directory, "etcd.log"), remove: EtcdDataDirectory(directory));
            await WaitAsync(etcd, async http => (await http.GetStringAsync(new Uri($"http://127.0.0.1:{clientPort}/health"))).Contains("\"true\"", StringComparison.Ordinal),
                TimeSpan.FromSeconds(20), "etcd");

            var port = FreePorts.Next();
            apiserver = await GuardedProcess.StartAsync(binary,
            [
                $"--etcd-servers=http://127.0.0.1:{clientPort}",
                "--bind-address=127.0.0.1", $"--secure-port={port}", "--insecure-port=0",
                $"--tls-cert-file={Path.Combine(directory, "apiserver.crt")}", $"--tls-private-key-file={Path.Combine(directory, "apiserver.key")}",
                $"--token-auth-file={Path.Combine(directory, "tokens.csv")}",
                "--authorization-mode=RBAC", "--anonymous-auth=false",
                $"--service-account-key-file={Path.Combine(directory, "sa.key")}",
                $"--service-account-signing-key-file={Path.Combine(directory, "sa.key")}",
                $"--service-account-issuer={Issuer}",
                "--service-cluster-ip-range=10.96.0.0/24",
                // Without a controller manager no token Secret is ever created for a service account, and the
                // ServiceAccount admission plugin would refuse pods that mount none.
                "--disable-admission-plugins=ServiceAccount",
                "--profiling=false",
            ], Path.Combine(directory, "apiserver.log"));
            var server = new KubeApiServer(directory, etcd, apiserver, port, adminToken, ca);
            using var client = server.HttpClient(adminToken);
            await WaitAsync(apiserver, async http =>
            {
                using var response = await client.GetAsync(new Uri(server.Url, "/readyz"));
                return response.StatusCode == HttpStatusCode.OK;
            }, TimeSpan.FromSeconds(90), "kube-apiserver /readyz");
            return server;
        }
        catch
        {
            if (apiserver is not null)
            {
                await apiserver.DisposeAsync();
            }

            if (etcd is not null)
            {
                await etcd.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>An HTTP client that trusts only this server's CA and sends the bearer token.</summary>
    public HttpClient HttpClient(string? token, Uri? baseAddress = null)
    {
        var ca = Ca;
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && IsIssuedByCa(certificate, ca),
            },
        };
        var client = new HttpClient(handler) { BaseAddress = baseAddress ?? Url, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await apiserver.DisposeAsync();
        await etcd.DisposeAsync();
        Ca.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private static bool IsIssuedByCa(X509Certificate certificate, X509Certificate2 ca)
    {
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf);
    }

    /// <summary>etcd fsyncs every write and 3.4 has no switch to stop it; on tmpfs that costs nothing.</summary>
    private static string EtcdDataDirectory(string directory) =>
        System.IO.Directory.Exists("/dev/shm") ? Path.Combine("/dev/shm", Path.GetFileName(directory) + "-etcd") : Path.Combine(directory, "etcd");

    /// <summary>A CA and a serving certificate for 127.0.0.1 signed by it, as PEM files; returns the CA.</summary>
    private static X509Certificate2 WriteCertificates(string directory)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=citrigger-test-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=kube-apiserver", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        names.AddDnsName("kubernetes.default.svc");
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var server = serverRequest.Create(ca, now.AddDays(-1), now.AddYears(10), serial);

        File.WriteAllText(Path.Combine(directory, "ca.crt"), ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, "apiserver.crt"), server.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, "apiserver.key"), serverKey.ExportPkcs8PrivateKeyPem());
        return X509CertificateLoader.LoadCertificate(ca.RawData);
    }

    private static async Task WaitAsync(GuardedProcess process, Func<HttpClient, Task<bool>> ready, TimeSpan timeout, string what)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (!process.IsRunning)
            {
                throw new InvalidOperationException($"{what} exited while starting; its log ({process.LogPath}) ends:\n{process.LogTail}");
            }

            try
            {
                if (await ready(http))
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{what} was not ready after {timeout.TotalSeconds:0} s; its log ({process.LogPath}) ends:\n{process.LogTail}");
            }

            await Task.Delay(100);
        }
    }
}

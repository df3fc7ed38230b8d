using System.Globalization;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

// Sums the runtime's allocation samples (GCAllocationTick: one sample per ~100 KB allocated, carrying the
// type and the stack of the allocation that crossed the mark) of one or more EventPipe traces, and prints
// where the bytes go: by type, by the innermost frame of our own code (CiTrigger.*) on the stack, and by
// any frame on the stack (inclusive). Shares are of the sampled bytes.
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: AllocationProfile trace.nettrace [more.nettrace ...] [--top N]");
    return 2;
}

var top = 40;
var files = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--top" && i + 1 < args.Length)
    {
        top = int.Parse(args[++i], CultureInfo.InvariantCulture);
    }
    else
    {
        files.Add(args[i]);
    }
}

var byType = new Dictionary<string, double>(StringComparer.Ordinal);
var byOwnFrame = new Dictionary<string, double>(StringComparer.Ordinal);
var inclusive = new Dictionary<string, double>(StringComparer.Ordinal);
double total = 0;
foreach (var file in files)
{
    using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(file));
    foreach (var e in log.Events)
    {
        if (e is not GCAllocationTickTraceData sample)
        {
            continue;
        }

        double bytes = sample.AllocationAmount64;
        total += bytes;
        Add(byType, sample.TypeName, bytes);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? own = null;
        for (var frame = e.CallStack(); frame is not null; frame = frame.Caller)
        {
            var method = frame.CodeAddress.FullMethodName;
            if (string.IsNullOrEmpty(method))
            {
                continue;
            }

            var name = method.Length > 140 ? method[..140] : method;
            if (seen.Add(name))
            {
                Add(inclusive, name, bytes);
            }

            if (own is null && method.StartsWith("CiTrigger.", StringComparison.Ordinal))
            {
                own = name;
            }
        }

        Add(byOwnFrame, own ?? "(no frame of ours: runtime, library or timer work)", bytes);
    }
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{total / 1e6:N1} MB sampled in {files.Count} trace(s)"));
Print("by type", byType);
Print("by the innermost frame of ours", byOwnFrame);
Print("inclusive, by any frame on the stack", inclusive, top * 3);
return 0;

void Print(string title, Dictionary<string, double> shares, int? count = null)
{
    Console.WriteLine();
    Console.WriteLine($"## {title}");
    foreach (var (name, bytes) in shares.OrderByDescending(s => s.Value).Take(count ?? top))
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{100 * bytes / total,6:N1} % {name}"));
    }
}

static void Add(Dictionary<string, double> shares, string key, double bytes) => shares[key] = shares.GetValueOrDefault(key) + bytes;

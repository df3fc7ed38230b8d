using System.IO.Hashing;
using System.Text;

namespace CiTrigger.Grains.GitHub;

/// <summary>Which of <see cref="ReportLanes{T}"/>' lanes a key takes.</summary>
public static class ReportLane
{
    /// <summary>The lane of <paramref name="key"/> among <paramref name="count"/>: the same in every process.</summary>
    public static int Of(string key, int count) => (int)(XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(key)) % (uint)count);
}

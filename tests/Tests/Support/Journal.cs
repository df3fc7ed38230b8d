namespace CiTrigger.Tests.Support;

/// <summary>What the fakes of one test did, in order, so a test can check the order of writes across stores.</summary>
public sealed class Journal
{
    private readonly List<string> entries = [];

    public IReadOnlyList<string> Entries
    {
        get
        {
            lock (entries)
            {
                return [.. entries];
            }
        }
    }

    public void Add(string entry)
    {
        lock (entries)
        {
            entries.Add(entry);
        }
    }

    public void Clear()
    {
        lock (entries)
        {
            entries.Clear();
        }
    }
}

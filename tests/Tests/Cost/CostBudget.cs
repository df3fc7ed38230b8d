using System.Text.Json;

namespace CiTrigger.Tests.Cost;

/// <summary>
/// The budget file (<c>budget.json</c> beside this file, copied to the output): for each store, each figure's upper
/// bound per event, what was measured when it was set and how the bound was chosen.
/// </summary>
public sealed record CostBudget(IReadOnlyDictionary<string, IReadOnlyDictionary<string, CostBudget.Line>> Stores)
{
    public static string FilePath => Path.Combine(AppContext.BaseDirectory, "Cost", "budget.json");

    public static CostBudget Load()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(FilePath));
        var stores = new Dictionary<string, IReadOnlyDictionary<string, Line>>(StringComparer.Ordinal);
        foreach (var store in document.RootElement.GetProperty("stores").EnumerateObject())
        {
            stores[store.Name] = store.Value.EnumerateObject().ToDictionary(
                figure => figure.Name,
                figure => new Line(
                    figure.Value.GetProperty("budget").GetDouble(),
                    figure.Value.GetProperty("measured").GetString()!,
                    figure.Value.GetProperty("how").GetString()!),
                StringComparer.Ordinal);
        }

        return new CostBudget(stores);
    }

    /// <summary>
    /// The figures of <paramref name="perEvent"/> above their bound for <paramref name="store"/>, or with no bound at all;
    /// a figure exactly at its bound is within it.
    /// </summary>
    public IReadOnlyList<string> Exceeded(string store, IReadOnlyDictionary<string, double> perEvent) =>
        [.. perEvent.Where(f => !Stores[store].TryGetValue(f.Key, out var line) || f.Value > line.Budget).Select(f => f.Key)];

    /// <param name="Budget">The upper bound per event.</param>
    /// <param name="Measured">What was measured when the bound was set (runs, min-max, date, commit).</param>
    /// <param name="How">Why the bound is where it is.</param>
    public sealed record Line(double Budget, string Measured, string How);
}

using System.Globalization;
using System.Text;
using Xunit;

namespace CiTrigger.Tests.Cost;

/// <summary>
/// The cost budget (issue 26): what a fully processed event costs, counted, never timed, in the fixed scenario of
/// <see cref="CostScenario"/>, against the bounds of <c>budget.json</c>. A change that raises a bound says why in
/// its commit. The table printed is the one to quote. The tests run alone (no other test class at the same time), so
/// that no phase of a round outlasts the catalog's delay on a busy machine; their three scenarios run side by side
/// (<see cref="CostRuns"/>).
/// </summary>
[Collection(Name)]
public class CostBudgetTests(ITestOutputHelper output, CostRuns runs) : IClassFixture<CostRuns>
{
    public const string Name = "cost budget";

    public static readonly TheoryData<string> Stores = [.. CostRuns.Stores];

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_fully_processed_event_costs_no_more_than_its_budget(string store)
    {
        var budget = CostBudget.Load().Stores[store];
        var counts = await runs.For(store);

        var table = Table(store, counts, budget);
        output.WriteLine(table);
        var over = CostBudget.Load().Exceeded(store, CostScenario.Figures(store).ToDictionary(f => f, f => counts[f] / CostScenario.Events));
        Assert.True(over.Count == 0, $"over budget: {string.Join(", ", over)}\n{table}");
    }

    private static string Table(string store, CostScenario.Counts counts, IReadOnlyDictionary<string, CostBudget.Line> budget)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{store}: {CostScenario.Events} pushes over {CostScenario.Refs} refs, per event");
        text.AppendLine("| figure | per event | budget | of budget |");
        text.AppendLine("|---|---|---|---|");
        foreach (var figure in CostScenario.Figures(store))
        {
            var value = counts[figure] / CostScenario.Events;
            var bound = budget[figure].Budget;
            text.AppendLine(CultureInfo.InvariantCulture, $"| {figure} | {Format(value)} | {Format(bound)} | {value / bound:P1} |");
        }

        text.AppendLine();
        text.AppendLine("requests and commands by kind, per event:");
        foreach (var (kind, value) in counts.Values.Where(c => c.Key.Split(' ')[0] is "GitHub" or "Kubernetes" or "Redis" && c.Value != 0
            && !CostScenario.Figures(store).Contains(c.Key)).OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {kind}: {value / CostScenario.Events:0.###}");
        }

        return text.ToString();
    }

    private static string Format(double value) => value.ToString(value >= 100 ? "N0" : "0.###", CultureInfo.InvariantCulture);
}

[CollectionDefinition(CostBudgetTests.Name, DisableParallelization = true)]
public sealed class CostBudgetRunsAlone;

/// <summary>
/// The scenarios of every store, started together when the first is asked for. Each is a service process of its own
/// and counts only itself, and most of a round is the wait for the catalog's delayed writes, so three side by side take
/// the time of one (one after another they were the longest serial part of the suite). When profiled
/// (<see cref="CostScenario.ProfileDirectory"/>) they run one after another, as the profiling script expects.
/// </summary>
public sealed class CostRuns
{
    public static readonly string[] Stores = ["sqlite", "redis", "sqlite" + CostScenario.PipelinesSuffix];

    private readonly Lazy<Dictionary<string, Task<CostScenario.Counts>>> runs = new(Start);

    public Task<CostScenario.Counts> For(string store) => runs.Value[store];

    private static Dictionary<string, Task<CostScenario.Counts>> Start()
    {
        if (CostScenario.ProfileDirectory is null)
        {
            return Stores.ToDictionary(store => store, store => Task.Run(() => RunAsync(store)));
        }

        var runs = new Dictionary<string, Task<CostScenario.Counts>>();
        Task previous = Task.CompletedTask;
        foreach (var store in Stores)
        {
            var after = previous;
            var run = Task.Run(async () =>
            {
                await after.ContinueWith(_ => { }, TaskScheduler.Default);
                return await RunAsync(store);
            });
            runs[store] = run;
            previous = run;
        }

        return runs;
    }

    private static async Task<CostScenario.Counts> RunAsync(string store)
    {
        await using var scenario = await CostScenario.StartAsync(store);
        return await scenario.RunAsync();
    }
}

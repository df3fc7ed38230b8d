using Xunit;

namespace CiTrigger.Tests.Cost;

/// <summary>The budget's comparison and its file, without running the scenario.</summary>
public class CostBudgetFileTests
{
    private static readonly CostBudget Budget = new(new Dictionary<string, IReadOnlyDictionary<string, CostBudget.Line>>
    {
        ["sqlite"] = new Dictionary<string, CostBudget.Line>
        {
            [CostScenario.StoreWrites] = new(12.7, "", ""),
            [CostScenario.AllocatedBytes] = new(300_000, "", ""),
        },
    });

    [Fact]
    public void A_figure_over_its_bound_is_reported_and_one_at_its_bound_is_not()
    {
        Assert.Empty(Budget.Exceeded("sqlite", new Dictionary<string, double> { [CostScenario.StoreWrites] = 12.7, [CostScenario.AllocatedBytes] = 1 }));
        Assert.Equal([CostScenario.StoreWrites], Budget.Exceeded("sqlite", new Dictionary<string, double>
        {
            [CostScenario.StoreWrites] = 12.705,
            [CostScenario.AllocatedBytes] = 299_999,
        }));
    }

    [Fact]
    public void A_figure_without_a_bound_is_reported()
    {
        Assert.Equal([CostScenario.GrainCalls], Budget.Exceeded("sqlite", new Dictionary<string, double>
        {
            [CostScenario.StoreWrites] = 1,
            [CostScenario.GrainCalls] = 0,
        }));
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("redis")]
    public void The_file_bounds_every_figure_of_a_store_and_says_how_each_bound_was_set(string store)
    {
        var lines = CostBudget.Load().Stores[store];
        Assert.Equal(CostScenario.Figures(store).Order(StringComparer.Ordinal), lines.Keys.Order(StringComparer.Ordinal));
        Assert.All(lines, line =>
        {
            Assert.True(line.Value.Budget > 0, $"{store} {line.Key}: a bound above zero");
            Assert.False(string.IsNullOrWhiteSpace(line.Value.Measured), $"{store} {line.Key}: what was measured");
            Assert.False(string.IsNullOrWhiteSpace(line.Value.How), $"{store} {line.Key}: how the bound was set");
        });
    }
}

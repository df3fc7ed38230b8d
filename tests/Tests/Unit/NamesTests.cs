using CiTrigger.Grains.Abstractions;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class NamesTests
{
    [Theory]
    [InlineData("octo/app")]
    [InlineData("Octo-Org/app.js")]
    [InlineData("a/b_c")]
    public void Ordinary_repository_names_are_valid(string name) => Assert.True(Names.IsRepository(name));

    [Theory]
    [InlineData("octo/app\n")]
    [InlineData("octo/app\r\n")]
    [InlineData("\nocto/app")]
    [InlineData("octo/app\u202E")]
    [InlineData("octo/ap\u200Bp")]
    public void A_repository_name_with_a_control_or_format_character_is_invalid_even_at_its_end(string name) =>
        Assert.False(Names.IsRepository(name));

    [Theory]
    [InlineData("72d3162e-cc78-11e3-81ab-4c9367dc0958")]
    [InlineData("d-1")]
    public void GitHub_delivery_ids_are_valid(string id) => Assert.True(Names.IsDeliveryId(id));

    [Theory]
    [InlineData("d-1\n")]
    [InlineData("d-1\r\n")]
    [InlineData("d-\u200B1")]
    public void A_delivery_id_with_a_trailing_newline_or_hidden_character_is_invalid(string id) =>
        Assert.False(Names.IsDeliveryId(id));

    [Theory]
    [InlineData("refs/heads/main")]
    [InlineData("refs/heads/feature/ünïcødé/🚀")]
    [InlineData("refs/tags/v1.2.0")]
    [InlineData("refs/heads/日本語")]
    public void Ordinary_refs_are_valid(string gitRef) => Assert.True(Names.IsGitRef(gitRef));

    [Theory]
    [InlineData("refs/heads/main\n")]
    [InlineData("refs/heads/a\u202Eb")]
    [InlineData("refs/heads/a\u202Db")]
    [InlineData("refs/heads/a\u200Bb")]
    [InlineData("refs/heads/a\u200Db")]
    [InlineData("refs/heads/\uFEFFmain")]
    [InlineData("refs/heads/soft\u00ADhyphen")]
    [InlineData("refs/heads/next\u0085line")]
    [InlineData("refs/heads/line\u2028separator")]
    [InlineData("refs/heads/tag\U000E0001")]
    public void A_ref_with_a_control_or_format_character_is_invalid(string gitRef) =>
        Assert.False(Names.IsGitRef(gitRef));

    // Built here rather than passed as test data: xunit's serialization of test data turns half of a
    // surrogate pair into U+FFFD.
    [Fact]
    public void A_ref_with_half_of_a_surrogate_pair_is_invalid()
    {
        Assert.False(Names.IsGitRef("refs/heads/\uD800"));
        Assert.False(Names.IsGitRef("refs/heads/\uDC00x"));
        Assert.False(Names.IsGitRef("refs/heads/x\uD83D"));
        Assert.Equal(2, Names.IndexOfHidden("🚀\uDC00"));
        Assert.Equal(@"x\uD800y", Names.Escape("x\uD800y"));
    }

    [Theory]
    [InlineData("refs/heads/main", "refs/heads/main")]
    [InlineData("refs/heads/ünï/🚀", "refs/heads/ünï/🚀")]
    [InlineData("refs/heads/txt.\u202Eexe", @"refs/heads/txt.\u202Eexe")]
    [InlineData("octo/app\n", @"octo/app\u000A")]
    [InlineData("a\u200Bb\uFEFF", @"a\u200Bb\uFEFF")]
    [InlineData("tag\U000E0001", @"tag\U000E0001")]
    [InlineData(@"C:\u202E", @"C:\\u202E")]
    public void Escape_shows_hidden_characters_and_backslashes_as_escapes(string value, string shown) =>
        Assert.Equal(shown, Names.Escape(value));

    [Fact]
    public void Escape_cuts_a_long_value_without_splitting_a_surrogate_pair()
    {
        Assert.Equal(new string('a', 80) + "…", Names.Escape(new string('a', 20 * 1024 * 1024)));
        Assert.Equal("aa🚀…", Names.Escape("aa🚀bb", max: 3));
    }

    [Theory]
    [InlineData("refs/heads/main", -1)]
    [InlineData("refs/heads/\U0001F468\u200D\U0001F469", 13)]
    [InlineData("ab\u202E", 2)]
    public void IndexOfHidden_finds_the_first_hidden_character(string value, int index) =>
        Assert.Equal(index, Names.IndexOfHidden(value));
}

using CiTrigger.Grains.Abstractions;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class NameRulesTests
{
    [Theory]
    [InlineData("Octo-Org/my.repo_1")]
    [InlineData("a/b")]
    [InlineData("octo/.github")]
    public void Repository_names_as_github_allows_them_are_accepted(string name) => Assert.True(Names.IsRepository(name));

    [Theory]
    [InlineData("")]
    [InlineData("octo")]
    [InlineData("octo/")]
    [InlineData("/app")]
    [InlineData("octo/app/extra")]
    [InlineData("-octo/app")]
    [InlineData(".octo/app")]
    [InlineData("octo/.")]
    [InlineData("octo/..")]
    [InlineData("octo/my app")]
    [InlineData("octo/app:refs")]
    [InlineData("octo/app%2F")]
    [InlineData("octo/\u00e4pp")]
    public void Other_repository_names_are_refused(string name) => Assert.False(Names.IsRepository(name));

    [Fact]
    public void A_repository_name_longer_than_github_allows_is_refused()
    {
        Assert.True(Names.IsRepository(new string('o', 39) + "/" + new string('a', 100)));
        Assert.False(Names.IsRepository("octo/" + new string('a', 101)));
        Assert.False(Names.IsRepository(new string('o', 100) + "/" + new string('a', 100)));
    }

    [Theory]
    [InlineData("refs/heads/main")]
    [InlineData("refs/heads/feature/x-y_z")]
    [InlineData("refs/heads/release/v1+hot#fix")]
    [InlineData("refs/tags/v1.0.0")]
    [InlineData("refs/pull/42/head")]
    [InlineData("refs/heads/caf\u00e9")]
    public void Git_refs_under_refs_are_accepted(string gitRef) => Assert.True(Names.IsGitRef(gitRef));

    [Theory]
    [InlineData("", "empty")]
    [InlineData("main", "not under refs/")]
    [InlineData("heads/main", "not under refs/")]
    [InlineData("refs/heads/a..b", "..")]
    [InlineData("refs/heads/a@{1}", "@{")]
    [InlineData("refs/heads//a", "//")]
    [InlineData("refs/heads/a.lock", ".lock")]
    [InlineData("refs/heads/a/", "trailing /")]
    [InlineData("refs/heads/a.", "trailing .")]
    [InlineData("refs/heads/a b", "space")]
    [InlineData("refs/heads/a\tb", "tab")]
    [InlineData("refs/heads/a\u0001b", "control character")]
    [InlineData("refs/heads/a\nb", "newline")]
    [InlineData("refs/heads/a\u007fb", "DEL")]
    [InlineData("refs/heads/a~1", "~")]
    [InlineData("refs/heads/a^", "^")]
    [InlineData("refs/heads/a:b", ":")]
    [InlineData("refs/heads/a?", "?")]
    [InlineData("refs/heads/a*", "*")]
    [InlineData("refs/heads/a[0]", "[")]
    [InlineData("refs/heads/a\\b", "backslash")]
    public void Git_refs_that_git_check_ref_format_refuses_are_refused(string gitRef, string why) =>
        Assert.False(Names.IsGitRef(gitRef), why);

    [Fact]
    public void A_git_ref_longer_than_1024_characters_is_refused()
    {
        var prefix = "refs/heads/";
        Assert.True(Names.IsGitRef(prefix + new string('a', 1024 - prefix.Length)));
        Assert.False(Names.IsGitRef(prefix + new string('a', 1025 - prefix.Length)));
    }

    [Theory]
    [InlineData("72d3162e-cc78-11e3-81ab-4c9367dc0958")]
    [InlineData("a")]
    [InlineData("d-42")]
    [InlineData("bench.run_1")]
    public void Delivery_ids_usable_as_label_values_are_accepted(string delivery) => Assert.True(Names.IsDeliveryId(delivery));

    [Theory]
    [InlineData("")]
    [InlineData("-abc")]
    [InlineData("abc-")]
    [InlineData("a b")]
    [InlineData("a/b")]
    [InlineData("a:b")]
    [InlineData("caf\u00e9")]
    public void Delivery_ids_that_are_not_label_values_are_refused(string delivery) => Assert.False(Names.IsDeliveryId(delivery));

    [Fact]
    public void A_delivery_id_longer_than_a_label_value_is_refused()
    {
        Assert.True(Names.IsDeliveryId(new string('a', 63)));
        Assert.False(Names.IsDeliveryId(new string('a', 64)));
    }

    [Fact]
    public void A_name_ending_in_a_newline_is_refused()
    {
        Assert.False(Names.IsRepository("octo/app\n"));
        Assert.False(Names.IsGitRef("refs/heads/main\n"));
        Assert.False(Names.IsDeliveryId("d-42\n"));
    }

    [Fact]
    public void A_github_ref_key_is_the_lower_cased_repository_a_colon_and_the_ref_as_it_is()
    {
        Assert.Equal("octo/app:refs/heads/Main", RefKey.For(ForgeNames.GitHub, "Octo/App", "refs/heads/Main"));
    }

    [Fact]
    public void Another_forge_s_ref_key_starts_with_its_name_so_it_never_meets_a_github_ref()
    {
        var key = RefKey.For("gitlab", "Octo/App", "refs/heads/main");

        Assert.Equal("gitlab:octo/app:refs/heads/main", key);
        Assert.NotEqual(RefKey.For(ForgeNames.GitHub, "octo/app", "refs/heads/main"), key);
        Assert.True(RefKey.TryParse(key, out var forge, out var repository, out var gitRef));
        Assert.Equal(("gitlab", "octo/app", "refs/heads/main"), (forge, repository, gitRef));
        Assert.Equal(("gitlab:octo/app", "refs/heads/main"), RefKey.Split(key));
    }

    [Theory]
    [InlineData("github", "octo/app", "refs/heads/main")]
    [InlineData("github", "Octo-Org/My.Repo", "refs/heads/release/v1+hot#fix")]
    [InlineData("github", "a/b", "refs/tags/v1.0.0")]
    [InlineData("gitlab", "group/sub/app", "refs/heads/main")]
    public void A_ref_key_splits_back_into_its_forge_repository_and_ref(string forgeName, string repository, string gitRef)
    {
        var key = RefKey.For(forgeName, repository, gitRef);

        Assert.Equal((RefKey.Repository(forgeName, repository), gitRef), RefKey.Split(key));
        Assert.True(RefKey.TryParse(key, out var forge, out var parsedRepository, out var parsedRef));
        Assert.Equal((forgeName, repository.ToLowerInvariant(), gitRef), (forge, parsedRepository, parsedRef));
        Assert.Equal(key, RefKey.For(forge, parsedRepository, parsedRef));
    }

    [Theory]
    [InlineData("")]
    [InlineData(":refs/heads/main")]
    [InlineData("octo/app:")]
    [InlineData("github:octo/app:refs/heads/main")]
    [InlineData("GitLab:octo/app:refs/heads/main")]
    [InlineData("gitlab::refs/heads/main")]
    [InlineData("gitlab:octo/app")]
    public void A_string_that_is_not_a_ref_key_does_not_parse(string key)
    {
        Assert.False(RefKey.TryParse(key, out var repository, out var gitRef));
        Assert.Equal(("", ""), (repository, gitRef));
        var error = Assert.Throws<ArgumentException>(() => RefKey.Split(key));
        Assert.Equal("key", error.ParamName);
    }

    [Fact]
    public void The_first_colon_after_the_repository_splits_a_key()
    {
        Assert.Equal(("octo/app", "refs/heads/a:b"), RefKey.Split("octo/app:refs/heads/a:b"));
        Assert.Equal(("gitlab:octo/app", "refs/heads/a:b"), RefKey.Split("gitlab:octo/app:refs/heads/a:b"));
    }

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

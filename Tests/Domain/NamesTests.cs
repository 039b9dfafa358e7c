using Experiments.Domain.Validation;

namespace Experiments.Tests.Domain;

public sealed class NamesTests
{
    [Theory]
    [InlineData("iris")]
    [InlineData("mnist v2 (scaled 1/255)")]
    [InlineData("Ünïcode 模型")]
    [InlineData("می\u200Cخواهم")]
    [InlineData("👩\u200D🔬 lab")]
    [InlineData("שלום עולם")]
    [InlineData("❤️ emoji with a variation selector")]
    public void Visible_text_in_any_script_is_a_name(string name) => Assert.Null(Names.Problem(name));

    [Theory]
    [InlineData("bell\u0007", 5, "a control character (U+0007)")]
    [InlineData("\u001b[31mred", 1, "a control character (U+001B)")]
    [InlineData("tab\there", 4, "a control character (U+0009)")]
    [InlineData("invoice\u202Etxt.exe", 8, "a bidirectional override (U+202E)")]
    [InlineData("a\u2066b", 2, "a bidirectional override (U+2066)")]
    [InlineData("zero\u200Bwidth", 5, "an invisible format character (U+200B)")]
    [InlineData("ir\u200Dis", 3, "an invisible format character (U+200D)")]
    [InlineData("\uFEFFbom", 1, "an invisible format character (U+FEFF)")]
    [InlineData("mark\u200F", 5, "an invisible format character (U+200F)")]
    [InlineData("two\u2028lines", 4, "a line break (U+2028)")]
    [InlineData("👩\u0007", 2, "a control character (U+0007)")]
    public void Characters_that_disguise_a_name_are_named_by_position(string name, int position, string kind) =>
        Assert.Equal($"must be visible text: character {position} is {kind}, which can disguise the name in logs and pages; remove it.", Names.Problem(name));

    [Fact]
    public void A_lone_surrogate_is_refused() =>
        Assert.Equal("must be visible text: character 5 is a lone surrogate (U+D800), which can disguise the name in logs and pages; remove it.",
            Names.Problem("lone" + (char)0xD800));
}

using System.Globalization;
using System.Text;

namespace Experiments.Domain.Validation;

/// <summary>
/// Names that users give (datasets, models) reach logs, terminals and pages, so they hold only visible text: no
/// control characters (Unicode category Cc: a bell, an ANSI escape that recolours a terminal), no bidirectional
/// overrides or isolates (U+202A–U+202E, U+2066–U+2069: "txt.exe" shown as "exe.txt"), no other invisible format
/// characters (Cf: zero-width spaces, direction marks, a byte order mark) that make two names look the same, no line
/// or paragraph separators and no lone surrogates. A zero-width joiner or non-joiner between two non-ASCII characters
/// stays allowed: emoji sequences and Persian or Indic words need it.
/// </summary>
public static class Names
{
    /// <summary>The message for the first character that is not visible text, or null when the name is fine.</summary>
    public static string? Problem(string name)
    {
        var position = 0;
        for (var index = 0; index < name.Length; position++)
        {
            var decoded = Rune.DecodeFromUtf16(name.AsSpan(index), out var rune, out var consumed) == System.Buffers.OperationStatus.Done;
            var kind = decoded ? Kind(rune, name, index, consumed) : "a lone surrogate";
            if (kind is not null)
            {
                var code = decoded ? rune.Value : name[index];
                return $"must be visible text: character {position + 1} is {kind} (U+{code:X4}), which can disguise the name in logs and pages; remove it.";
            }
            index += consumed;
        }
        return null;
    }

    private static string? Kind(Rune rune, string name, int index, int length)
    {
        var value = rune.Value;
        if (value is >= 0x202A and <= 0x202E or >= 0x2066 and <= 0x2069)
        {
            return "a bidirectional override";
        }
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.Control => "a control character",
            UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator => "a line break",
            UnicodeCategory.Format when value is 0x200C or 0x200D && Joins(name, index, length) => null,
            UnicodeCategory.Format => "an invisible format character",
            _ => null,
        };
    }

    /// <summary>A joiner with a non-ASCII character on each side, as in an emoji sequence or a Persian word.</summary>
    private static bool Joins(string name, int index, int length) =>
        index > 0 && name[index - 1] > '\u007F' && index + length < name.Length && name[index + length] > '\u007F';
}

using System.Numerics;
using Experiments.Training.Data.Import;

namespace Experiments.Tests.Training.Data;

/// <summary>The pickle reader on its own: what it builds, and what it refuses before building anything.</summary>
public sealed class RestrictedUnpicklerTests
{
    [Fact]
    public void Containers_numbers_shared_references_and_none_keys_are_read_as_python_wrote_them()
    {
        // pickle.dumps({"a": (x, x), "big": 2**70, "s": {1, 2}, None: 1.5, "t": True}, protocol=4) with x = [1, 2]
        var root = Load("gASVQQAAAAAAAAB9lCiMAWGUXZQoSwFLAmVoAoaUjANiaWeUigkAAAAAAAAAAECMAXOUj5QoSwFLApBORz/4AAAAAAAAjAF0lIh1Lg==");

        var dict = Assert.IsType<Dictionary<object, object?>>(root);
        var pair = Assert.IsType<object?[]>(dict["a"]);
        Assert.Same(pair[0], pair[1]);
        Assert.Equal([1L, 2L], Assert.IsType<List<object?>>(pair[0]));
        Assert.Equal(BigInteger.Pow(2, 70), dict["big"]);
        Assert.Equal(new HashSet<object?> { 1L, 2L }, Assert.IsType<HashSet<object?>>(dict["s"]));
        Assert.Equal(1.5, dict[PickleNone.Key]);
        Assert.Equal(true, dict["t"]);
    }

    [Theory]
    [InlineData("gAJ9cQBYDQAAAHRyYWluaW5nX2RhdGFxAVgHAAAAc3RvcmFnZXECWAEAAAAwcQOGcQRRcy4=", "persistent ids, as torch.save files do")]
    [InlineData("gAWVFQAAAAAAAAB9lIwNdHJhaW5pbmdfZGF0YZSXcy4=", "out-of-band buffers")]
    [InlineData("KGRwMApWdHJhaW5pbmdfZGF0YQpwMQpWeApwMgpzLg==", "protocol 0 text strings")]
    [InlineData("gAZ9lC4=", "protocol 6 is newer than 5")]
    [InlineData("gAR9lCiMAWGU", "the file is truncated")]
    public void Features_a_dataset_pickle_never_needs_are_refused_with_the_reason(string pickle, string reason)
    {
        var refused = Assert.ThrowsAny<PickleFormatException>(() => Load(pickle));

        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_global_outside_the_allow_list_is_refused_where_it_is_named_before_any_call()
    {
        // c posix \n system \n then garbage: the refusal comes at GLOBAL, before the stream is read further.
        byte[] bytes = [0x80, 0x02, .. "cposix\nsystem\n"u8, 0xff, 0xff];

        var refused = Assert.Throws<PickleRefusedException>(() => RestrictedUnpickler.Load(new MemoryStream(bytes)));

        Assert.Equal("posix.system", refused.Global);
    }

    [Fact]
    public void The_allow_list_names_numpy_1_and_2_reconstruction_and_builtin_containers_only()
    {
        Assert.Contains("numpy.core.multiarray._reconstruct", RestrictedUnpickler.AllowedGlobals);
        Assert.Contains("numpy._core.multiarray._reconstruct", RestrictedUnpickler.AllowedGlobals);
        Assert.Contains("numpy._core.numeric._frombuffer", RestrictedUnpickler.AllowedGlobals);
        Assert.Contains("numpy.core.multiarray.scalar", RestrictedUnpickler.AllowedGlobals);
        Assert.All(RestrictedUnpickler.AllowedGlobals, name => Assert.Matches(@"^(numpy\.|builtins\.|__builtin__\.|_codecs\.encode$|collections\.OrderedDict$)", name));
        Assert.DoesNotContain("builtins.eval", RestrictedUnpickler.AllowedGlobals);
        Assert.DoesNotContain("builtins.getattr", RestrictedUnpickler.AllowedGlobals);
    }

    private static object? Load(string base64) => RestrictedUnpickler.Load(new MemoryStream(Convert.FromBase64String(base64)));
}

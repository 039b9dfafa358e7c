using Experiments.Training.Runtime;

namespace Experiments.Tests.Training.Runtime;

public sealed class NativeErrorsTests
{
    [Fact]
    public void A_libtorch_stack_dump_is_cut_from_the_message()
    {
        const string message = """
            [enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory: you tried to allocate 4611686018427387904 bytes.
            Exception raised from alloc_cpu at /pytorch/c10/core/impl/alloc_cpu.cpp:117 (most recent call first):
            frame #0: c10::Error::Error(c10::SourceLocation, std::string) + 0x96 (0x7f0c in /lib/libc10.so)
            frame #1: c10::alloc_cpu(unsigned long) + 0x3b1 (0x7f0c in /lib/libc10.so)
            """;

        Assert.Equal("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory: you tried to allocate 4611686018427387904 bytes.",
            NativeErrors.WithoutStackDump(message));
    }

    [Fact]
    public void Frames_without_a_header_are_cut_and_a_plain_message_is_kept()
    {
        Assert.Equal("shape mismatch", NativeErrors.WithoutStackDump("shape mismatch\nframe #0: at::native::foo() + 0x1"));
        Assert.Equal("epoch 3: the loss is NaN", NativeErrors.WithoutStackDump("epoch 3: the loss is NaN"));
        Assert.DoesNotContain("frame", NativeErrors.WithoutStackDump("Exception raised from foo at bar.cpp:1\nframe #0: x"), StringComparison.Ordinal);
        Assert.Equal(NativeErrors.MaxLength, NativeErrors.WithoutStackDump(new string('x', 5000)).Length);
    }
}

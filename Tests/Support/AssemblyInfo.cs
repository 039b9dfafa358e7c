// TorchSharp's RNG and thread pool are process-wide, and each API fixture runs a Hangfire server:
// the suite runs one test at a time so that no test measures or seeds another's work.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

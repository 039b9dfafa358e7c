// Test classes run in parallel, except those in the OneAtATime collection (Tests/Support/OneAtATime.cs).
[assembly: CollectionBehavior(CollectionBehavior.CollectionPerClass, MaxParallelThreads = 0)]

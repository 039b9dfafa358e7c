using System.Globalization;
using Experiments.Domain.Losses;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Runs;
using Experiments.Domain.Schedulers;
using Experiments.Domain.Validation;

namespace Experiments.Web.Forms;

/// <summary>
/// The new-run form: every input as the user typed it, turned into the <see cref="RunSpec"/> that
/// <c>POST /api/runs</c> takes. <see cref="Check"/> runs the API's own spec validation while the user types;
/// the API checks again (and checks the model against the dataset) when the form is sent.
/// </summary>
public sealed class RunForm
{
    public Guid? DatasetId { get; set; }

    public Guid? ModelId { get; set; }

    public ComponentForm Optimizer { get; } = new(OptimizerCatalog.Instance, "adam");

    public ComponentForm Loss { get; } = new(LossCatalog.Instance);

    /// <summary>Off: a constant learning rate. On: the scheduler below, with PyTorch's defaults filled in.</summary>
    public bool UseScheduler { get; set; }

    public ComponentForm Scheduler { get; } = new(SchedulerCatalog.Instance);

    public string Epochs { get; set; } = "20";

    public string BatchSize { get; set; } = RunSpecValidator.DefaultBatchSize.ToString(CultureInfo.InvariantCulture);

    public bool Shuffle { get; set; } = true;

    /// <summary>Empty: the service picks one and stores it with the run.</summary>
    public string Seed { get; set; } = "";

    public string TargetAccuracy { get; set; } = "";

    public TrainingDevice Device { get; set; } = TrainingDevice.Auto;

    public string ValidationFraction { get; set; } = "";

    public string GradientClipNorm { get; set; } = "";

    public string EvaluateEvery { get; set; } = "1";

    public string LogEveryBatches { get; set; } = "";

    public string Threads { get; set; } = "";

    /// <summary>A form holding a run's resolved spec, to run it again as it is or edited.</summary>
    public static RunForm From(RunSpec spec)
    {
        var form = new RunForm
        {
            DatasetId = spec.DatasetId,
            ModelId = spec.ModelId,
            Epochs = Text(spec.Epochs),
            BatchSize = Text(spec.BatchSize),
            Shuffle = spec.Shuffle ?? true,
            Seed = Text(spec.Seed),
            TargetAccuracy = Text(spec.TargetAccuracy),
            Device = spec.Device ?? TrainingDevice.Auto,
            ValidationFraction = Text(spec.ValidationFraction),
            GradientClipNorm = Text(spec.GradientClipNorm),
            EvaluateEvery = Text(spec.EvaluateEvery),
            LogEveryBatches = Text(spec.LogEveryBatches),
            Threads = Text(spec.Threads),
        };
        if (spec.Optimizer is not null)
        {
            form.Optimizer.Load(spec.Optimizer);
        }
        if (spec.Loss is not null)
        {
            form.Loss.Load(spec.Loss);
        }
        if (spec.Scheduler is not null)
        {
            form.UseScheduler = true;
            form.Scheduler.Load(spec.Scheduler);
        }
        return form;
    }

    /// <summary>The spec to send; inputs that are not numbers are reported in <paramref name="errors"/> by field.</summary>
    public RunSpec Build(ValidationErrors errors) => new()
    {
        DatasetId = DatasetId ?? Guid.Empty,
        ModelId = ModelId ?? Guid.Empty,
        Optimizer = new OptimizerSpec(Optimizer.Type, Optimizer.Parameters("optimizer", errors)),
        Loss = new LossSpec(Loss.Type, Loss.Parameters("loss", errors)),
        Scheduler = UseScheduler ? new SchedulerSpec(Scheduler.Type, Scheduler.Parameters("scheduler", errors)) : null,
        Epochs = Integer(Epochs, "epochs", errors),
        BatchSize = Integer(BatchSize, "batchSize", errors),
        Shuffle = Shuffle,
        Seed = Long(Seed, "seed", errors),
        TargetAccuracy = Number(TargetAccuracy, "targetAccuracy", errors),
        Device = Device,
        ValidationFraction = Number(ValidationFraction, "validationFraction", errors),
        GradientClipNorm = Number(GradientClipNorm, "gradientClipNorm", errors),
        EvaluateEvery = Integer(EvaluateEvery, "evaluateEvery", errors),
        LogEveryBatches = Integer(LogEveryBatches, "logEveryBatches", errors),
        Threads = Integer(Threads, "threads", errors),
    };

    /// <summary>What is wrong with the form now, by field, as the API would say it (without the dataset-model fit).</summary>
    public ValidationErrors Check()
    {
        var errors = new ValidationErrors();
        var spec = Build(errors);
        if (errors.IsEmpty)
        {
            RunSpecValidator.Resolve(spec, randomSeed: 0, errors);
        }
        return errors;
    }

    private static string Text<T>(T? value) where T : struct, IFormattable =>
        value is { } v ? v.ToString(null, CultureInfo.InvariantCulture) : "";

    private static int? Integer(string text, string field, ValidationErrors errors) =>
        Parse<int>(text, field, errors, value => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? number : (int?)null, "a whole number");

    private static long? Long(string text, string field, ValidationErrors errors) =>
        Parse<long>(text, field, errors, value => long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? number : null, "a whole number");

    private static double? Number(string text, string field, ValidationErrors errors) =>
        Parse<double>(text, field, errors, value => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) ? number : null, "a number");

    private static T? Parse<T>(string text, string field, ValidationErrors errors, Func<string, T?> parse, string what) where T : struct
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var value = parse(text.Trim());
        if (value is null)
        {
            errors.Add(field, $"must be {what}; got '{text.Trim()}'.");
        }
        return value;
    }
}

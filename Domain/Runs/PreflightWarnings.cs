using System.Globalization;

namespace Experiments.Domain.Runs;

/// <summary>Pre-flight's findings as plain sentences, each naming the problem and what to fix.</summary>
public static class PreflightWarnings
{
    public static IReadOnlyList<string> For(InitialLoss initial, IReadOnlyList<ParameterGradient> gradients, DataChecks data, OverfitCheck? overfit, IReadOnlyList<string> classNames)
    {
        var warnings = new List<string>();
        AddInitialLoss(warnings, initial);
        AddGradients(warnings, gradients);
        AddBalance(warnings, data, classNames);
        foreach (var duplicates in data.Duplicates.Where(duplicates => duplicates.Count > 0))
        {
            var examples = string.Join(", ", duplicates.Examples.Select(pair => Text($"{duplicates.Split}[{pair.Index}] = train[{pair.TrainIndex}]")));
            warnings.Add(Text($"{duplicates.Count} {duplicates.Split} samples are exact copies of training samples (e.g. {examples}), so the {duplicates.Split} ")
                + "accuracy overstates how the model does on unseen data; remove the duplicates from one of the splits before importing.");
        }
        if (data.ConstantFeatures.Count > 0)
        {
            var constant = data.ConstantFeatures;
            warnings.Add(Text($"{constant.Count} of the {constant.Features} features have the same value in every training sample (first: {string.Join(", ", constant.First)}{(constant.Count > constant.First.Length ? ", …" : "")}); ")
                + "they carry no information: leave them out of the data (for images, constant border pixels are common and harmless).");
        }
        if (overfit is { Memorized: false })
        {
            warnings.Add(Text($"Trained on one batch for {overfit.Steps} steps, the loss went only from {overfit.InitialLoss:G4} to {overfit.FinalLoss:G4}")
                + (overfit.FinalAccuracy is { } accuracy ? Text($" (accuracy {accuracy:P0} on the batch)") : "")
                + $" and the criterion ({overfit.Criterion}) was not met: a model that cannot memorise one batch will not learn the data. "
                + "Try a larger learning rate (POST /api/runs/lr-range-test finds one), more steps, a loss that fits the model's outputs, or a larger model.");
        }
        return warnings;
    }

    private static void AddInitialLoss(List<string> warnings, InitialLoss initial)
    {
        if (!double.IsFinite(initial.Value))
        {
            warnings.Add(Text($"The first batch's loss is {initial.Value}: the model's outputs or the loss overflow before any step. ")
                + "Standardize the dataset (features far from unit scale), and check the loss takes what the model outputs.");
            return;
        }
        if (initial.Expected is not { } expected || initial.Deviation is not { } deviation || Math.Abs(deviation) <= InitialLoss.Tolerance)
        {
            return;
        }
        var imbalance = initial.LabelEntropy is { } entropy && initial.Value < expected && initial.Value >= entropy * (1 - InitialLoss.Tolerance)
            ? Text($" (it is near the entropy of the class distribution, {entropy:G4}, which is fine if the last layer's bias was set to the log class frequencies)")
            : "";
        warnings.Add(Text($"The first batch's loss is {initial.Value:G4}, {Math.Abs(deviation):P0} {(deviation > 0 ? "above" : "below")} the {expected:G4} expected at initialisation ({initial.Assumption}){imbalance}. ")
            + (deviation > 0
                ? "The initial outputs are far from uniform: end the model with a linear layer (no activation after it; crossEntropy applies the softmax), "
                    + "and standardize the dataset if its features are far from unit scale."
                : "The model is confidently right before training: check that the labels are not leaked into the features."));
    }

    private static void AddGradients(List<string> warnings, IReadOnlyList<ParameterGradient> gradients)
    {
        var dead = gradients.Where(gradient => gradient.State is GradientState.None or GradientState.Zero).Select(gradient => gradient.Name).ToList();
        if (dead.Count > 0)
        {
            warnings.Add($"{Names(dead)} received no gradient on the first batch (none or all zeros), so {(dead.Count == 1 ? "it" : "they")} will never learn. "
                + "Something after the layer stops the gradient: a softmax or normalization over a dimension of size 1, an activation that is flat "
                + "for every input it gets (relu of large negative values, saturated sigmoid or tanh), or a layer whose output is not used. "
                + "Change that layer, or standardize the data if its scale saturates the activations.");
        }
        var broken = gradients.Where(gradient => gradient.State == GradientState.NonFinite).Select(gradient => gradient.Name).ToList();
        if (broken.Count > 0)
        {
            warnings.Add($"{Names(broken)} received a NaN or infinite gradient on the first batch; training would fail at once. "
                + "Standardize the dataset, lower the learning rate, or set gradientClipNorm.");
        }
    }

    private static void AddBalance(List<string> warnings, DataChecks data, IReadOnlyList<string> classNames)
    {
        foreach (var split in data.Splits)
        {
            var missing = split.ClassCounts.Select((count, index) => (count, index)).Where(pair => pair.count == 0).Select(pair => ClassName(classNames, pair.index)).ToList();
            if (split.Samples > 0 && missing.Count > 0)
            {
                warnings.Add($"The {split.Split} split has no samples of {Names(missing)}: "
                    + (split.Split == "train"
                        ? "the model cannot learn to predict them; import data with samples of every class, or leave those classes out."
                        : $"the {split.Split} accuracy says nothing about them; use a stratified split (the import's default) or more data."));
            }
        }
        if (data.Splits.FirstOrDefault(split => split.Split == "train") is { ImbalanceRatio: { } ratio } train && ratio >= DataChecks.ImbalanceWarningRatio)
        {
            var largest = Array.IndexOf(train.ClassCounts, train.ClassCounts.Max());
            var smallest = Array.IndexOf(train.ClassCounts, train.ClassCounts.Where(count => count > 0).Min());
            warnings.Add(Text($"The training split is badly imbalanced: {ClassName(classNames, largest)} has {train.ClassCounts[largest]} samples, ")
                + Text($"{ClassName(classNames, smallest)} only {train.ClassCounts[smallest]} ({ratio:G3} to 1). Accuracy will favour the large classes: ")
                + "give crossEntropy a per-class weight (loss.weight, e.g. inversely proportional to the counts), or resample the data, and judge the run by per-class recall.");
        }
    }

    private static string ClassName(IReadOnlyList<string> classNames, int index) =>
        index < classNames.Count ? $"class '{classNames[index]}'" : Text($"class {index}");

    private static string Names(List<string> names) => names.Count switch
    {
        1 => names[0],
        <= 6 => $"{string.Join(", ", names.Take(names.Count - 1))} and {names[^1]}",
        _ => $"{string.Join(", ", names.Take(5))} and {names.Count - 5} more",
    };

    private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

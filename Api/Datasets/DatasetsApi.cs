using System.Globalization;
using System.Security.Claims;
using Experiments.Api.Access;
using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Domain;
using Experiments.Domain.Access;
using Experiments.Domain.Datasets;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;
using Experiments.Domain.Validation;
using Experiments.Training.Data.Import;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Datasets;

public static class DatasetsApi
{
    /// <summary>The longest upload file name kept (POSIX's NAME_MAX); the catalog's column holds it on every engine.</summary>
    public const int MaxFileNameLength = 255;

    public const double DefaultTestFraction = 0.2;
    public const int DefaultPreviewCount = 8;
    public const int MaxPreviewCount = 64;
    public const int MaxNameLength = 200;

    /// <summary>The values of the form's <c>format</c> field (in any case), and the format each names.</summary>
    public static IReadOnlyDictionary<string, DatasetFormat> FormatNames { get; } = new Dictionary<string, DatasetFormat>(StringComparer.Ordinal)
    {
        ["csv"] = DatasetFormat.Csv,
        ["tsv"] = DatasetFormat.Csv,
        ["npy"] = DatasetFormat.Npy,
        ["npz"] = DatasetFormat.Npz,
        ["pickle"] = DatasetFormat.Pickle,
        ["pkl"] = DatasetFormat.Pickle,
        ["idx"] = DatasetFormat.Idx,
    };

    /// <summary>The values of the form's <c>task</c> field (in any case).</summary>
    public static IReadOnlyDictionary<string, DatasetTask> TaskNames { get; } = new Dictionary<string, DatasetTask>(StringComparer.Ordinal)
    {
        ["classification"] = DatasetTask.Classification,
        ["regression"] = DatasetTask.Regression,
    };

    /// <summary>The splits a preview shows.</summary>
    public static IReadOnlyList<string> PreviewSplits { get; } = ["train", "test"];
    private const string Refused = "The dataset cannot be imported.";

    private static readonly string[] FileFields = ["file", "labelsFile", "testFile", "testLabelsFile"];

    private static readonly string[] ValueFields =
    [
        "name", "format", "task", "labelColumn", "hasHeader", "delimiter", "featuresKey", "labelsKey", "testFeaturesKey", "testLabelsKey",
        "testFraction", "seed", "scale", "standardize", "reshape",
    ];

    public static IEndpointRouteBuilder MapDatasets(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/datasets").WithTags("Datasets").RefuseUnknownQueryParameters().AnswerProblemsAsProblemJson().RequireAuthorization(Policies.Viewer);
        group.MapPost("/", Import)
            .WithName("importDataset")
            .RequireAuthorization(Policies.Editor)
            .DisableAntiforgery()
            .Accepts<DatasetImportForm>("multipart/form-data")
            .ProducesValidationProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesValidationProblem(StatusCodes.Status431RequestHeaderFieldsTooLarge)
            .ProducesValidationProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesValidationProblem(StatusCodes.Status507InsufficientStorage)
            .WithSummary("Import a dataset from CSV/TSV, NumPy .npy/.npz, a Python pickle or IDX files")
            .WithDescription("The format is detected from the content (gzipped files are unpacked) unless `format` says it. "
                + "CSV: one file, header and delimiter detected, `labelColumn` by name or index (default: the last). "
                + "NumPy: an .npz holding x_train/y_train (and x_test/y_test), or an .npy `file` with an .npy `labelsFile`. "
                + "Pickle: a dict with training_data, training_labels (and testing_data, testing_labels) as nested lists or NumPy arrays; "
                + "nothing outside an allow-list is constructed. IDX (MNIST): an images `file` and a `labelsFile`. "
                + "Integer and text labels make a classification dataset, non-integer or multi-column labels (or `task=regression`) a regression one. "
                + "Without a test split in the file, `testFraction` (default 0.2) is held out with `seed` (default 0), stratified by class. "
                + "Optional preprocessing, applied at training and prediction time: `scale` (e.g. 1/255), `standardize` (per-feature, "
                + "fitted on the training split), `reshape` (e.g. 1,28,28). Importing the same bytes with the same options returns the existing dataset with 200.");
        group.MapGet("/", List).WithName("listDatasets").Paged().WithSummary("List datasets, newest first");
        group.MapGet("/{id:guid}", Get).WithName("getDataset").WithSummary("Describe one dataset: shape, dtype, task, classes, splits, statistics, preprocessing");
        group.MapGet("/{id:guid}/preview", Preview)
            .WithName("previewDataset")
            .DescribesQuery("split", PreviewSplits, defaultValue: PreviewSplits[0])
            .DescribesQuery("count", minimum: 1, maximum: MaxPreviewCount, defaultValue: DefaultPreviewCount)
            .WithSummary("The first samples of a split: values and labels, or images rendered as PNG");
        group.MapDelete("/{id:guid}", Delete)
            .WithName("deleteDataset")
            .ProducesValidationProblem(StatusCodes.Status409Conflict)
            .DescribesQuery("force", defaultValue: false)
            .RequireAuthorization(Policies.Editor)
            .WithSummary("Delete a dataset and its tensor file")
            .WithDescription("Refused with 409 while runs use it. With `force=true` the dataset's finished runs (and their metrics and logs) "
                + "(and sweeps) are deleted with it; a queued or running run, or a running sweep, still refuses it.");
        return app;
    }

    public static async Task<Results<Created<DatasetView>, Ok<DatasetView>, ValidationProblem, ProblemHttpResult>> Import(
        HttpRequest request,
        ClaimsPrincipal user,
        DatasetImporter importer,
        IOptions<ExperimentsOptions> options,
        CancellationToken cancellationToken)
    {
        var limit = options.Value.MaxUploadBytes;
        if (request.ContentLength > limit)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "file", DatasetImportException.TooLarge("file", "the upload", limit).Message);
        }
        if (!request.HasFormContentType)
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Content-Type",
                "send the dataset as multipart/form-data with a field named 'file' (curl -F file=@samples/iris.csv ...).");
        }
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = limit;
        }
        var formOptions = new FormOptions { MultipartBodyLengthLimit = limit };
        request.HttpContext.Features.Set<IFormFeature>(new FormFeature(request, formOptions));
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (Exception overLimit) when (FormLimitExceeded(overLimit, formOptions, limit) is { } answer)
        {
            return answer;
        }
        catch (Exception unreadable) when (unreadable is InvalidDataException or IOException or BadHttpRequestException)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"is not a readable multipart form: {unreadable.Message}"] }, title: Refused);
        }

        var (importRequest, errors) = ReadForm(form);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: Refused);
        }
        try
        {
            var (dataset, created) = await importer.ImportAsync(importRequest!, Caller.Of(user), cancellationToken);
            var view = DatasetView.From(dataset);
            return created ? TypedResults.Created($"/api/datasets/{dataset.Id}", view) : TypedResults.Ok(view);
        }
        catch (DatasetImportException refused)
        {
            return refused.Kind switch
            {
                ImportErrorKind.TooLarge => Problem(StatusCodes.Status413PayloadTooLarge, refused.Field, refused.Message),
                ImportErrorKind.UnsupportedFormat => Problem(StatusCodes.Status415UnsupportedMediaType, refused.Field, refused.Message),
                _ => TypedResults.ValidationProblem(new Dictionary<string, string[]> { [refused.Field] = [refused.Message] }, title: Refused),
            };
        }
        catch (IOException full) when (IsDiskFull(full))
        {
            // The converter and the importer have removed what they wrote; nothing is left of this upload.
            return Problem(StatusCodes.Status507InsufficientStorage, "file",
                $"the data folder ({options.Value.DataFolderPath}) has no space left for this dataset; free some space or move Experiments:DataFolder, then upload again.");
        }
    }

    /// <summary>ENOSPC on Linux and macOS (the errno is the HResult), ERROR_DISK_FULL and ERROR_HANDLE_DISK_FULL on Windows.</summary>
    private static bool IsDiskFull(IOException exception) =>
        exception.HResult is 28 or unchecked((int)0x80070070) or unchecked((int)0x80070027);

    /// <summary>
    /// The form reader's refusals, each answered with the limit it hit: the upload limit (<c>Experiments:MaxUploadBytes</c>),
    /// or one of ASP.NET Core's <see cref="FormOptions"/> limits, which it names only in its exception's message.
    /// </summary>
    private static ProblemHttpResult? FormLimitExceeded(Exception error, FormOptions limits, long uploadLimit)
    {
        var uploadTooLarge = Problem(StatusCodes.Status413PayloadTooLarge, "file", DatasetImportException.TooLarge("file", "the upload", uploadLimit).Message);
        if (error is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
        {
            return uploadTooLarge;
        }
        if (error is not InvalidDataException)
        {
            return null;
        }
        bool Says(string prefix) => error.Message.StartsWith(prefix, StringComparison.Ordinal);
        string Bytes(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{DatasetImportException.Format(bytes)} ({bytes} bytes");
        if (Says("Multipart body length limit"))
        {
            return uploadTooLarge;
        }
        // A part's header lines are read with what is left of the headers' length limit: "Line length limit" is that limit too.
        if (Says("Line length limit") || Says("Multipart headers length limit"))
        {
            return Problem(StatusCodes.Status431RequestHeaderFieldsTooLarge, "body",
                $"the headers of a part of the form are longer than the multipart header length limit of {Bytes(limits.MultipartHeadersLengthLimit)}, "
                + "FormOptions.MultipartHeadersLengthLimit): send shorter file and field names.");
        }
        if (Says("Multipart headers count limit"))
        {
            return Problem(StatusCodes.Status431RequestHeaderFieldsTooLarge, "body", string.Create(CultureInfo.InvariantCulture,
                $"a part of the form has more than {limits.MultipartHeadersCountLimit} headers, the multipart header count limit (FormOptions.MultipartHeadersCountLimit)."));
        }
        if (Says("Multipart boundary length limit"))
        {
            return Problem(StatusCodes.Status400BadRequest, "Content-Type", string.Create(CultureInfo.InvariantCulture,
                $"the multipart boundary is longer than {limits.MultipartBoundaryLengthLimit} characters, the multipart boundary length limit (FormOptions.MultipartBoundaryLengthLimit)."));
        }
        if (Says("Form value count limit"))
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "body", string.Create(CultureInfo.InvariantCulture,
                $"the form has more than {limits.ValueCountLimit} fields, the form value count limit (FormOptions.ValueCountLimit); a dataset upload has at most {FileFields.Length + ValueFields.Length}."));
        }
        if (Says("Form value length limit"))
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "body",
                $"a field of the form is longer than the form value length limit of {Bytes(limits.ValueLengthLimit)}, FormOptions.ValueLengthLimit); send data as files.");
        }
        if (Says("Form key length limit"))
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "body",
                $"a field name of the form is longer than the form key length limit of {Bytes(limits.KeyLengthLimit)}, FormOptions.KeyLengthLimit).");
        }
        return null;
    }

    /// <summary>Reads and checks every field; unknown fields are refused so that a typo is not silently ignored.</summary>
    private static (DatasetImportRequest? Request, Dictionary<string, string[]> Errors) ReadForm(IFormCollection form)
    {
        var errors = new Dictionary<string, string[]>();
        void Error(string field, string message) => errors[field] = [message];

        foreach (var unknown in form.Keys.Concat(form.Files.Select(file => file.Name)).Distinct()
            .Where(key => !ValueFields.Contains(key, StringComparer.Ordinal) && !FileFields.Contains(key, StringComparer.Ordinal)))
        {
            Error(unknown, NearestName.NotOneOf(unknown, "field", "a dataset upload", [.. FileFields, .. ValueFields]));
        }
        var files = new Dictionary<string, UploadedFile>();
        foreach (var field in FileFields)
        {
            var sent = form.Files.GetFiles(field);
            if (sent.Count > 1)
            {
                Error(field, "send one file per field.");
            }
            else if (sent.Count == 1)
            {
                var file = sent[0];
                if (file.Length == 0)
                {
                    Error(field, $"the file is empty ('{file.FileName}' has 0 bytes).");
                }
                else if (file.FileName.IndexOfAny(['/', '\\']) >= 0 || file.FileName.Contains("..", StringComparison.Ordinal))
                {
                    Error(field, $"file name '{file.FileName}' contains a path; send a plain file name such as iris.csv.");
                }
                else if (file.FileName.Length > MaxFileNameLength)
                {
                    Error(field, $"the file name is {file.FileName.Length} characters; send one of at most {MaxFileNameLength}, such as iris.csv.");
                }
                else
                {
                    files[field] = new UploadedFile(field, file.FileName, file.OpenReadStream());
                }
            }
        }
        if (!files.ContainsKey("file") && !errors.ContainsKey("file"))
        {
            Error("file", "is required: send the data as a multipart form field named 'file' (curl -F file=@iris.csv).");
        }

        string? Text(string field) => form.TryGetValue(field, out var values) && !string.IsNullOrWhiteSpace(values.ToString()) ? values.ToString().Trim() : null;

        var name = Text("name") ?? (files.TryGetValue("file", out var main) ? Path.GetFileNameWithoutExtension(main.FileName) : null);
        if (name is not null && name.Length > MaxNameLength)
        {
            Error("name", $"must be 1 to {MaxNameLength} characters.");
        }
        else if (name is not null && Names.Problem(name) is { } invisible)
        {
            Error("name", Text("name") is null ? $"{invisible} The name comes from the file name; send a name field." : invisible);
        }
        DatasetFormat? format = Text("format")?.ToLowerInvariant() switch
        {
            null => null,
            var known when FormatNames.TryGetValue(known, out var named) => named,
            var other => Invalid<DatasetFormat>("format", $"'{other}' is not a format; use csv, npy, npz, pickle or idx (or leave it out to detect it)."),
        };
        DatasetTask? task = Text("task")?.ToLowerInvariant() switch
        {
            null => null,
            var known when TaskNames.TryGetValue(known, out var named) => named,
            var other => Invalid<DatasetTask>("task", $"'{other}' is not a task; use classification or regression."),
        };
        var hasHeader = Boolean("hasHeader");
        var standardize = Boolean("standardize") ?? false;
        char? delimiter = null;
        var delimiterValue = form["delimiter"].ToString();
        if (delimiterValue.Length > 0)
        {
            // A tab arrives as itself or written \t; other delimiters may come with spaces around them.
            var unescaped = delimiterValue is "\\t" or "\t" ? "\t" : delimiterValue.Trim();
            if (unescaped.Length != 1)
            {
                Error("delimiter", "must be a single character such as , or ; or \\t.");
            }
            else
            {
                delimiter = unescaped[0];
            }
        }
        var fraction = DefaultTestFraction;
        if (Text("testFraction") is { } fractionText
            && (!double.TryParse(fractionText, NumberStyles.Float, CultureInfo.InvariantCulture, out fraction) || double.IsNaN(fraction) || fraction <= 0 || fraction >= 1))
        {
            Error("testFraction", $"must be greater than 0 and less than 1, e.g. 0.2 to hold out 20% for testing; got {fractionText}.");
        }
        var seed = 0;
        if (Text("seed") is { } seedText && !int.TryParse(seedText, NumberStyles.Integer, CultureInfo.InvariantCulture, out seed))
        {
            Error("seed", $"must be a whole number; got '{seedText}'.");
        }
        double? scale = null;
        if (Text("scale") is { } scaleText)
        {
            scale = ParseScale(scaleText);
            if (scale is null)
            {
                Error("scale", $"must be a finite non-zero number or a fraction such as 1/255; got '{scaleText}'.");
            }
        }
        int[]? reshape = null;
        if (Text("reshape") is { } reshapeText)
        {
            reshape = ParseShape(reshapeText);
            if (reshape is null)
            {
                Error("reshape", $"must be a shape of positive whole numbers such as 1,28,28 or [1,28,28]; got '{reshapeText}'.");
            }
        }
        if (errors.Count > 0)
        {
            return (null, errors);
        }
        var request = new DatasetImportRequest(
            name!,
            files["file"],
            files.GetValueOrDefault("labelsFile"),
            files.GetValueOrDefault("testFile"),
            files.GetValueOrDefault("testLabelsFile"),
            format,
            task,
            new CsvImportOptions(Text("labelColumn"), hasHeader, delimiter),
            new ArrayKeys(Text("featuresKey"), Text("labelsKey"), Text("testFeaturesKey"), Text("testLabelsKey")),
            new SplitOptions(fraction, seed),
            new Preprocessing(scale, standardize, reshape, null, null));
        return (request, errors);

        bool? Boolean(string field)
        {
            var text = Text(field);
            if (text is null)
            {
                return null;
            }
            if (bool.TryParse(text, out var value))
            {
                return value;
            }
            Error(field, $"must be true or false; got '{text}'.");
            return null;
        }

        T? Invalid<T>(string field, string message) where T : struct
        {
            Error(field, message);
            return null;
        }
    }

    /// <summary>A number or a fraction such as 1/255; null unless finite and non-zero.</summary>
    private static double? ParseScale(string text)
    {
        var parts = text.Split('/', StringSplitOptions.TrimEntries);
        if (parts.Length > 2 || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            return null;
        }
        if (parts.Length == 2)
        {
            if (!double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var divisor))
            {
                return null;
            }
            value /= divisor;
        }
        return double.IsFinite(value) && value != 0 ? value : null;
    }

    private static int[]? ParseShape(string text)
    {
        var parts = text.Trim('[', ']', '(', ')', ' ').Split([',', 'x', '×'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var shape = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]) || shape[i] < 1)
            {
                return null;
            }
        }
        return shape.Length > 0 ? shape : null;
    }

    public static async Task<Ok<Page<DatasetView>>> List(IDatasetQueries queries, int? page, int? pageSize, string? createdBy, CancellationToken cancellationToken)
    {
        var (number, size) = Paging.Normalize(page, pageSize);
        return TypedResults.Ok(await queries.ListAsync(number, size, cancellationToken, QueryParameters.NullIfEmpty(createdBy)));
    }

    public static async Task<Results<Ok<DatasetView>, NotFound<ProblemDetails>>> Get(Guid id, IDatasetQueries queries, CancellationToken cancellationToken) =>
        await queries.GetAsync(id, cancellationToken) is { } dataset ? TypedResults.Ok(dataset) : Problems.NotFound("dataset", id);

    public static async Task<Results<Ok<DatasetPreview>, NotFound<ProblemDetails>, ValidationProblem>> Preview(
        Guid id, string? split, int? count, IDatasetQueries queries, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var which = split ?? PreviewSplits[0];
        if (!PreviewSplits.Contains(which))
        {
            errors["split"] = [$"must be train or test; got '{which}'."];
        }
        var samples = count ?? DefaultPreviewCount;
        if (samples is < 1 or > MaxPreviewCount)
        {
            errors["count"] = [$"must be between 1 and {MaxPreviewCount}; got {samples}."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The preview cannot be made.");
        }
        return await queries.PreviewAsync(id, which == "test", samples, cancellationToken) is { } preview
            ? TypedResults.Ok(preview)
            : Problems.NotFound("dataset", id);
    }

    public static async Task<Results<NoContent, NotFound<ProblemDetails>, ProblemHttpResult>> Delete(
        Guid id, bool? force, ClaimsPrincipal user, ExperimentsDbContext db, IArtifactStore artifacts, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var dataset = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, cancellationToken);
        if (dataset is null)
        {
            return Problems.NotFound("dataset", id);
        }
        var caller = Caller.Of(user);
        if (!caller.MayChange(dataset.CreatedBy))
        {
            return Problems.NotYours(caller, "dataset", id, dataset.CreatedBy);
        }
        List<Guid> deletedRuns;
        // One write transaction checks and deletes: a run created at the same moment either committed first, and is seen
        // here, or commits after, and finds no dataset (POST /api/runs answers 409). On PostgreSQL the dataset's row is locked
        // first: a run's insert waits on it (its foreign key check) until this ends, then fails, instead of slipping in between.
        await using (var transaction = await db.BeginSerializedWriteAsync(cancellationToken))
        {
            if (db.IsPostgreSql)
            {
                await db.Database.ExecuteSqlAsync($"SELECT 1 FROM \"Datasets\" WHERE \"Id\" = {id} FOR UPDATE", cancellationToken);
            }
            var sweeps = await db.Sweeps.Where(sweep => sweep.DatasetId == id).Select(sweep => new { sweep.Id, sweep.Status, sweep.CreatedBy }).ToListAsync(cancellationToken);
            if (sweeps.FirstOrDefault(sweep => sweep.Status == SweepStatus.Running) is { } running)
            {
                return Problem(StatusCodes.Status409Conflict, "force",
                    $"dataset '{dataset.Name}' is searched by sweep {running.Id}, which is running; cancel it (POST /api/sweeps/{running.Id}/cancel) or wait until it ends, then delete the dataset.");
            }
            if (sweeps.Count > 0 && force != true)
            {
                return Problem(StatusCodes.Status409Conflict, "force",
                    $"dataset '{dataset.Name}' is searched by {sweeps.Count} finished sweeps; send force=true to delete them and their trials with it.");
            }
            if (sweeps.FirstOrDefault(sweep => !caller.MayChange(sweep.CreatedBy)) is { } othersSweep)
            {
                return Problems.NotYours(caller, "sweep", othersSweep.Id, othersSweep.CreatedBy);
            }
            var runs = await db.Runs.Where(run => run.DatasetId == id).GroupBy(run => run.Status)
                .Select(group => new { Status = group.Key, Count = group.Count() }).ToListAsync(cancellationToken);
            var used = string.Join(", ", runs.Select(group => $"{group.Count} {group.Status.ToString().ToLowerInvariant()}"));
            if (runs.Count > 0 && force != true)
            {
                return Problem(StatusCodes.Status409Conflict, "force",
                    $"dataset '{dataset.Name}' is used by runs ({used}); send force=true to delete those runs, their metrics and logs with it.");
            }
            if (runs.Any(group => group.Status is RunStatus.Queued or RunStatus.Running))
            {
                return Problem(StatusCodes.Status409Conflict, "force",
                    $"dataset '{dataset.Name}' is used by runs that are queued or running ({used}); wait until they finish, then delete it.");
            }
            var owned = await db.Runs.Where(run => run.DatasetId == id).Select(run => new { run.Id, run.CreatedBy }).ToListAsync(cancellationToken);
            if (owned.FirstOrDefault(run => !caller.MayChange(run.CreatedBy)) is { } othersRun)
            {
                return Problems.NotYours(caller, "run", othersRun.Id, othersRun.CreatedBy);
            }
            deletedRuns = [.. owned.Select(run => run.Id)];
            await db.Runs.Where(run => run.DatasetId == id).ExecuteDeleteAsync(cancellationToken);
            await db.Sweeps.Where(sweep => sweep.DatasetId == id).ExecuteDeleteAsync(cancellationToken);
            await db.Datasets.Where(d => d.Id == id).ExecuteDeleteAsync(cancellationToken);
            db.Audit(caller, AuditActions.DatasetDelete, $"datasets/{id}",
                deletedRuns.Count > 0 ? $"{dataset.Name}, with {deletedRuns.Count} finished runs{(sweeps.Count > 0 ? $" and {sweeps.Count} sweeps" : "")}" : dataset.Name, time.GetUtcNow());
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        artifacts.DeleteDataset(dataset);
        foreach (var runId in deletedRuns)
        {
            artifacts.DeleteRun(runId);
        }
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult Problem(int status, string field, string message) => TypedResults.Problem(new HttpValidationProblemDetails(
        new Dictionary<string, string[]> { [field] = [message] })
    {
        Status = status,
        Title = status switch
        {
            StatusCodes.Status413PayloadTooLarge => "The upload is too large.",
            StatusCodes.Status431RequestHeaderFieldsTooLarge => "The upload's form headers are too large.",
            StatusCodes.Status415UnsupportedMediaType => "The upload is not in a format Experiments reads.",
            StatusCodes.Status409Conflict => "The dataset is in use.",
            StatusCodes.Status507InsufficientStorage => "There is no space left to store the dataset.",
            _ => Refused,
        },
    });
}

/// <summary>The multipart form of <c>POST /api/datasets</c>, as documented in Swagger.</summary>
public sealed class DatasetImportForm
{
    /// <summary>The data: CSV/TSV, .npy features, .npz, pickle, or IDX images (gzipped or not).</summary>
    public required IFormFile File { get; init; }

    /// <summary>Labels of an .npy or IDX `file`.</summary>
    public IFormFile? LabelsFile { get; init; }

    /// <summary>Test features (.npy, IDX or CSV), with `testLabelsFile` for .npy and IDX.</summary>
    public IFormFile? TestFile { get; init; }

    public IFormFile? TestLabelsFile { get; init; }

    /// <summary>Default: the file name without its extension.</summary>
    public string? Name { get; init; }

    /// <summary>csv, npy, npz, pickle or idx; detected from the content when left out.</summary>
    public string? Format { get; init; }

    /// <summary>classification or regression; decided from the labels when left out.</summary>
    public string? Task { get; init; }

    /// <summary>CSV: the label column's name or 0-based index (default: the last column).</summary>
    public string? LabelColumn { get; init; }

    public bool? HasHeader { get; init; }

    /// <summary>CSV: one character, \t for tab; detected when left out.</summary>
    public string? Delimiter { get; init; }

    /// <summary>.npz arrays or pickled dict keys to read (default: x_train/y_train, training_data/training_labels, …).</summary>
    public string? FeaturesKey { get; init; }

    public string? LabelsKey { get; init; }

    public string? TestFeaturesKey { get; init; }

    public string? TestLabelsKey { get; init; }

    /// <summary>Share held out for testing when the file has no test split (default 0.2).</summary>
    public double? TestFraction { get; init; }

    public int? Seed { get; init; }

    /// <summary>Multiply features by this, e.g. 1/255.</summary>
    public string? Scale { get; init; }

    /// <summary>Subtract the training split's per-feature mean and divide by its std.</summary>
    public bool? Standardize { get; init; }

    /// <summary>The sample shape the model sees, e.g. 1,28,28.</summary>
    public string? Reshape { get; init; }
}

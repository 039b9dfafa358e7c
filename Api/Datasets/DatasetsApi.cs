using Experiments.Api.Persistence;
using Experiments.Domain;
using Experiments.Domain.Datasets;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Experiments.Api.Datasets;

public static class DatasetsApi
{
    public const double DefaultTestFraction = 0.2;

    public static IEndpointRouteBuilder MapDatasets(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/datasets").WithTags("Datasets");
        group.MapPost("/", Import)
            .DisableAntiforgery()
            .WithSummary("Import a dataset from a CSV file")
            .WithDescription("Multipart form: `file` (CSV or TSV; header optional, delimiter detected), `name`, `labelColumn` "
                + "(name or 0-based index, default: the last column), `hasHeader`, `delimiter`, `testFraction` (default 0.2; the held-out "
                + "test split is stratified by class), `seed` (default 0). Labels that are whole numbers are class indices; any other "
                + "labels are sorted and numbered. Importing the same bytes with the same options again returns the existing dataset with 200.");
        group.MapGet("/", List).WithSummary("List datasets, newest first");
        group.MapGet("/{id:guid}", Get).WithSummary("Describe one dataset: shape, classes, splits, statistics");
        return app;
    }

    public static async Task<Results<Created<DatasetView>, Ok<DatasetView>, ValidationProblem>> Import(
        IFormFile? file,
        [FromForm] string? name,
        [FromForm] string? labelColumn,
        [FromForm] bool? hasHeader,
        [FromForm] string? delimiter,
        [FromForm] double? testFraction,
        [FromForm] int? seed,
        DatasetImporter importer,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (file is null || file.Length == 0)
        {
            errors["file"] = [file is null
                ? "is required: send the data as a multipart form field named 'file' (curl -F file=@iris.csv)."
                : "the file is empty."];
        }
        else if (file.FileName.IndexOfAny(['/', '\\']) >= 0 || file.FileName.Contains("..", StringComparison.Ordinal))
        {
            errors["file"] = [$"file name '{file.FileName}' contains a path; send a plain file name such as iris.csv."];
        }
        var datasetName = string.IsNullOrWhiteSpace(name) ? Path.GetFileNameWithoutExtension(file?.FileName) : name.Trim();
        if (string.IsNullOrWhiteSpace(datasetName) || datasetName.Length > 200)
        {
            errors["name"] = ["must be 1 to 200 characters."];
        }
        var fraction = testFraction ?? DefaultTestFraction;
        if (double.IsNaN(fraction) || fraction <= 0 || fraction >= 1)
        {
            errors["testFraction"] = [$"must be greater than 0 and less than 1, e.g. 0.2 to hold out 20% for testing; got {fraction}."];
        }
        char? separator = null;
        if (!string.IsNullOrEmpty(delimiter))
        {
            var unescaped = delimiter == "\\t" ? "\t" : delimiter;
            if (unescaped.Length != 1)
            {
                errors["delimiter"] = ["must be a single character such as , or ; or \\t."];
            }
            else
            {
                separator = unescaped[0];
            }
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The dataset cannot be imported.");
        }

        try
        {
            await using var upload = file!.OpenReadStream();
            var (dataset, created) = await importer.ImportCsvAsync(upload, datasetName,
                new CsvImportOptions(labelColumn, hasHeader, separator), new SplitOptions(fraction, seed ?? 0), cancellationToken);
            var view = DatasetView.From(dataset);
            return created ? TypedResults.Created($"/api/datasets/{dataset.Id}", view) : TypedResults.Ok(view);
        }
        catch (DatasetImportException refused)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { [refused.Field] = [refused.Message] },
                title: "The dataset cannot be imported.");
        }
    }

    public static async Task<Ok<Page<DatasetView>>> List(IDatasetQueries queries, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        var (number, size) = Paging.Normalize(page, pageSize);
        return TypedResults.Ok(await queries.ListAsync(number, size, cancellationToken));
    }

    public static async Task<Results<Ok<DatasetView>, NotFound<ProblemDetails>>> Get(Guid id, IDatasetQueries queries, CancellationToken cancellationToken) =>
        await queries.GetAsync(id, cancellationToken) is { } dataset ? TypedResults.Ok(dataset) : Problems.NotFound("dataset", id);
}

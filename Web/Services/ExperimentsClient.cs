using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Experiments.Domain;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;
using Experiments.Web.Runs;

namespace Experiments.Web.Services;

/// <summary>What the user uploads, with the import options of <c>POST /api/datasets</c> (empty means the API's default).</summary>
public sealed record DatasetUpload(string FileName, long Size, string? Name, string? LabelColumn = null, bool? HasHeader = null,
    string? Delimiter = null, double? TestFraction = null, int? Seed = null);

/// <summary>
/// The dashboard's writes (and a run's mistakes, a request-shaped read), sent to this service's own REST API so that a page does exactly what a curl call does:
/// same validation, same messages, same side effects (docs/decisions/007).
/// </summary>
public sealed class ExperimentsClient(HttpClient http, DashboardCaller? caller = null)
{
    public async Task<ApiResult<DatasetView>> ImportDatasetAsync(DatasetUpload upload, Stream content, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        using var form = new MultipartFormDataContent();
        var file = new ProgressStreamContent(content, upload.Size, progress);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", upload.FileName);
        AddField(form, "name", upload.Name);
        AddField(form, "labelColumn", upload.LabelColumn);
        AddField(form, "hasHeader", upload.HasHeader?.ToString().ToLowerInvariant());
        AddField(form, "delimiter", upload.Delimiter);
        AddField(form, "testFraction", upload.TestFraction?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        AddField(form, "seed", upload.Seed?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await SendAsync(HttpMethod.Post, "api/datasets", form, cancellationToken);
        return await ReadAsync<DatasetView>(response, cancellationToken);
    }

    public async Task<ApiResult<ModelSummary>> ValidateModelAsync(ValidateModelRequest request, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, "api/models/validate", JsonContent.Create(request, options: JsonConventions.Web), cancellationToken);
        return await ReadAsync<ModelSummary>(response, cancellationToken);
    }

    public async Task<ApiResult<ModelView>> CreateModelAsync(CreateModelRequest request, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, "api/models", JsonContent.Create(request, options: JsonConventions.Web), cancellationToken);
        return await ReadAsync<ModelView>(response, cancellationToken);
    }

    public async Task<ApiResult<RunView>> CreateRunAsync(RunSpec spec, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, "api/runs", JsonContent.Create(spec, options: JsonConventions.Web), cancellationToken);
        return await ReadAsync<RunView>(response, cancellationToken);
    }

    /// <summary>POST /api/runs/preflight: the spec checked and measured; nothing is queued.</summary>
    public async Task<ApiResult<PreflightReport>> PreflightAsync(RunSpec spec, int overfitSteps, CancellationToken cancellationToken)
    {
        var query = overfitSteps > 0 ? $"?overfitSteps={overfitSteps.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "";
        using var response = await SendAsync(HttpMethod.Post, $"api/runs/preflight{query}", JsonContent.Create(spec, options: JsonConventions.Web), cancellationToken);
        return await ReadAsync<PreflightReport>(response, cancellationToken);
    }

    /// <summary>POST /api/runs/lr-range-test with the API's default bounds and steps.</summary>
    public async Task<ApiResult<LearningRateRangeTestResult>> LearningRateRangeTestAsync(RunSpec spec, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, "api/runs/lr-range-test", JsonContent.Create(spec, options: JsonConventions.Web), cancellationToken);
        return await ReadAsync<LearningRateRangeTestResult>(response, cancellationToken);
    }

    public async Task<ApiResult<RunView>> CancelRunAsync(Guid runId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, $"api/runs/{runId}/cancel", null, cancellationToken);
        return await ReadAsync<RunView>(response, cancellationToken);
    }

    /// <summary>POST /api/sweeps/{id}/cancel: its queued trials are cancelled and its running ones stopped; 409 once it finished.</summary>
    public async Task<ApiResult<SweepView>> CancelSweepAsync(Guid sweepId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, $"api/sweeps/{sweepId}/cancel", null, cancellationToken);
        return await ReadAsync<SweepView>(response, cancellationToken);
    }

    /// <summary>A run's mistakes on <paramref name="split"/>, as <c>GET /api/runs/{id}/mistakes</c> answers them.</summary>
    public async Task<ApiResult<RunMistakes>> MistakesAsync(Guid runId, string split, MistakeQuery query, int count, CancellationToken cancellationToken)
    {
        var path = FormattableString.Invariant($"api/runs/{runId}/mistakes?split={Uri.EscapeDataString(split)}&kind={Uri.EscapeDataString(query.Kind)}&count={count}");
        if (query.TrueClass is { } trueClass)
        {
            path += FormattableString.Invariant($"&true={trueClass}");
        }
        if (query.PredictedClass is { } predictedClass)
        {
            path += FormattableString.Invariant($"&predicted={predictedClass}");
        }
        using var response = await SendAsync(HttpMethod.Get, path, null, cancellationToken);
        return await ReadAsync<RunMistakes>(response, cancellationToken);
    }

    /// <summary>Sends as the signed-in person: with their key, never with any other.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (caller is not null && await caller.KeyAsync() is { } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return await http.SendAsync(request, cancellationToken);
    }

    private static void AddField(MultipartFormDataContent form, string name, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            form.Add(new StringContent(value), name);
        }
    }

    private static async Task<ApiResult<T>> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken) where T : class
    {
        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
        {
            return new ApiResult<T>(await response.Content.ReadFromJsonAsync<T>(JsonConventions.Web, cancellationToken), null, status);
        }
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return new ApiResult<T>(null, ReadProblem(status, body), status);
    }

    /// <summary>An RFC 7807 answer's title, detail and field errors; any other body becomes the detail.</summary>
    public static ApiProblem ReadProblem(int status, string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            var title = root.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : $"The service answered {status}.";
            var detail = root.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            if (root.TryGetProperty("errors", out var e) && e.ValueKind == JsonValueKind.Object)
            {
                foreach (var field in e.EnumerateObject())
                {
                    errors[field.Name] = field.Value.ValueKind == JsonValueKind.Array
                        ? field.Value.EnumerateArray().Select(message => message.ToString()).ToArray()
                        : [field.Value.ToString()];
                }
            }
            return new ApiProblem(title, detail, errors);
        }
        catch (JsonException)
        {
            return new ApiProblem($"The service answered {status}.", string.IsNullOrWhiteSpace(body) ? null : body, new Dictionary<string, string[]>());
        }
    }

    /// <summary>Streams an upload and reports how many bytes have been sent.</summary>
    private sealed class ProgressStreamContent(Stream source, long length, IProgress<long>? progress) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
        {
            var buffer = new byte[81920];
            long sent = 0;
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                sent += read;
                progress?.Report(sent);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long size)
        {
            size = length;
            return true;
        }
    }
}

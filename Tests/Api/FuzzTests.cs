using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace Experiments.Tests.Api;

/// <summary>
/// Malformed requests generated from the OpenAPI document, so that a new endpoint is fuzzed without a new test:
/// every operation gets bad ids, bad query values, bad bodies and wrong content types. None may answer 5xx,
/// the host must stay alive, and a refused request must leave no row and no dataset file behind.
/// </summary>
[Collection(OneAtATime.Name)]
public sealed class FuzzTests(ApiFactory factory, ITestOutputHelper output) : IClassFixture<ApiFactory>
{
    private const string Sentinel = "__FUZZ_SENTINEL__";
    private const int MinimumVariantsPerOperation = 20;
    private const int MinimumRequests = 1_000;

    private static readonly string HugeString = new('x', 100_000);

    /// <summary>Raw JSON put in place of a value: wrong types, extreme and non-finite numbers, huge and deep values.</summary>
    private static readonly string[] BadJsonValues =
    [
        "\"text\"", "12345", "true", "[]", "{}", "null", "1e308", "1e309", "-1", "0", "2147483648", "9223372036854775808", "1.5",
        "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "NaN", "-1e-320", "\"00000000-0000-0000-0000-000000000000\"", "\"not-a-guid\"",
        "\"" + HugeString + "\"", Nest(200, "[", "]", "1"),
    ];

    private static readonly string[] BadQueryValues =
    [
        "abc", "-1", "0", "1e308", "NaN", "Infinity", "2147483648", "99999999999999999999", "", "%00", "true", "00000000-0000-0000-0000-000000000000",
        new string('9', 10_000),
    ];

    private static readonly string[] BadFormValues =
    [
        "abc", "", "-1", "0", "2", "1e308", "NaN", "Infinity", "-Infinity", "2147483648", "99999999999999999999", "1.5", "-1e-320",
        "1,2,3,4,5,6,7,8,9", "0,0", "-4", "4,,", "maybe", HugeString,
    ];

    private readonly HttpClient _client = CreateClient(factory);

    private sealed record Ids(Guid Dataset, Guid Model, Guid Run);

    private sealed record Variant(string Method, string Template, string Url, string Description, Func<HttpContent?> Body, (string Name, string Value)? Header = null);

    private sealed record Snapshot(int Datasets, int Models, int Runs, int DatasetFiles);

    [Fact]
    public async Task Every_operation_survives_malformed_requests_without_5xx_or_leftovers()
    {
        var clock = Stopwatch.StartNew();
        var ids = await CreateResourcesAsync();
        var document = JsonNode.Parse(await _client.GetStringAsync("/swagger/v1/swagger.json"))!;
        var variants = Operations(document).SelectMany(operation => VariantsOf(document, operation, ids)).ToList();

        var perOperation = variants.GroupBy(variant => (variant.Method, variant.Template)).ToList();
        Assert.Contains(perOperation, group => group.Key == ("GET", "/health"));
        Assert.Contains(perOperation, group => group.Key == ("POST", "/api/datasets"));
        Assert.All(perOperation, group => Assert.True(group.Count() >= MinimumVariantsPerOperation, $"{group.Key}: {group.Count()} variants"));
        Assert.True(variants.Count >= MinimumRequests, $"{variants.Count} requests");

        var failures = new List<string>();
        // Deletes last, so that a delete the fuzzer gets accepted (force=true) does not turn later valid ids into 404s.
        foreach (var variant in variants.OrderBy(variant => variant.Method == "DELETE"))
        {
            var failure = await SendAsync(variant, Documented(document, variant));
            if (failure is not null)
            {
                failures.Add(failure);
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {variants.Count} requests failed:\n" + string.Join("\n", failures));
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/health")).StatusCode);
        output.WriteLine($"FuzzTests: {variants.Count} requests over {perOperation.Count} operations in {clock.Elapsed.TotalSeconds:F1} s");
    }

    [Theory]
    [InlineData("/api/models")]
    [InlineData("/api/models/validate")]
    [InlineData("/api/runs")]
    public async Task Regression_a_json_body_in_an_unknown_charset_is_a_415_naming_the_content_type(string path)
    {
        var before = await SnapshotAsync();
        using var body = new StringContent("{}") { Headers = { ContentType = MediaTypeHeaderValue.Parse("application/json; charset=klingon") } };

        var problem = await ProblemAssertions.ExpectProblemAsync(await _client.PostAsync(path, body), HttpStatusCode.UnsupportedMediaType);

        Assert.Contains("'klingon' is not a known encoding", Assert.Single(problem.Errors["Content-Type"]), StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync());
    }

    private static HttpClient CreateClient(ApiFactory factory)
    {
        var client = factory.CreateClient();
        client.Timeout = TimeSpan.FromSeconds(30);
        return client;
    }

    private async Task<Ids> CreateResourcesAsync()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        var run = await Workflow.CreateRunAsync(_client, datasetId, modelId, epochs: 1);
        await Workflow.WaitUntilFinishedAsync(_client, run.Id);
        return new Ids(datasetId, modelId, run.Id);
    }

    /// <summary>The statuses the document lists for the variant's operation (none for an operation it leaves out).</summary>
    private static HashSet<int> Documented(JsonNode document, Variant variant) =>
        document["paths"]![variant.Template]?[variant.Method.ToLowerInvariant()]?["responses"]?.AsObject()
            .Select(response => int.Parse(response.Key, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet() ?? [];

    /// <summary>Sends one variant; answers why it failed, or null. An answer must be one the document lists.</summary>
    private async Task<string?> SendAsync(Variant variant, HashSet<int> documented)
    {
        var before = await SnapshotAsync();
        using var request = new HttpRequestMessage(new HttpMethod(variant.Method), variant.Url) { Content = variant.Body() };
        if (variant.Header is var (name, value))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        var bodyExcerpt = request.Content is null ? "" : Excerpt(Encoding.UTF8.GetString(await request.Content.ReadAsByteArrayAsync()));
        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(request);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or InvalidOperationException)
        {
            return $"{variant.Method} {Excerpt(variant.Url)} [{variant.Description}] body {bodyExcerpt}: threw {exception.GetType().Name}: {Excerpt(exception.Message)}";
        }
        using (response)
        {
            var status = (int)response.StatusCode;
            var answer = Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync());
            if (status >= 500)
            {
                return $"{variant.Method} {Excerpt(variant.Url)} [{variant.Description}] body {bodyExcerpt}: {status} {Excerpt(answer)}";
            }
            if (documented.Count > 0 && !documented.Contains(status))
            {
                return $"{variant.Method} {Excerpt(variant.Url)} [{variant.Description}]: answered {status}, which the OpenAPI document does not list ({string.Join(", ", documented.Order())}): {Excerpt(answer)}";
            }
            if (variant.Method == "POST" && variant.Template == "/api/runs" && status == (int)HttpStatusCode.Accepted)
            {
                // Nothing the fuzzer starts may train for long.
                var runId = JsonNode.Parse(answer)!["id"]!.GetValue<Guid>();
                using var cancel = await _client.PostAsync($"/api/runs/{runId}/cancel", null);
            }
            if (status is >= 400 and < 500)
            {
                var after = await SnapshotAsync();
                if (after != before)
                {
                    return $"{variant.Method} {Excerpt(variant.Url)} [{variant.Description}] body {bodyExcerpt}: refused with {status} but left {before} -> {after}";
                }
            }
            return null;
        }
    }

    private async Task<Snapshot> SnapshotAsync()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ExperimentsDbContext>();
        var folder = scope.ServiceProvider.GetRequiredService<IOptions<ExperimentsOptions>>().Value.DatasetsFolderPath;
        var files = Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Count() : 0;
        return new Snapshot(await db.Datasets.CountAsync(), await db.Models.CountAsync(), await db.Runs.CountAsync(), files);
    }

    private static string Excerpt(string text) => text.Length <= 200 ? text : $"{text[..200]}… ({text.Length} chars)";

    private static string Nest(int depth, string open, string close, string inner) =>
        string.Concat(Enumerable.Repeat(open, depth)) + inner + string.Concat(Enumerable.Repeat(close, depth));

    // ---- The operations of the document ----

    private sealed record Operation(string Method, string Template, JsonNode Node);

    private static IEnumerable<Operation> Operations(JsonNode document)
    {
        if (document["paths"]!["/health"] is null)
        {
            // Health checks are not in ApiExplorer; the probe is fuzzed all the same.
            yield return new Operation("GET", "/health", new JsonObject());
        }
        foreach (var (template, item) in document["paths"]!.AsObject())
        {
            if (template.StartsWith("/hangfire", StringComparison.Ordinal)
                || !(template.StartsWith("/api/", StringComparison.Ordinal) || template == "/health"))
            {
                continue;
            }
            foreach (var (method, node) in item!.AsObject())
            {
                if (method is "get" or "post" or "put" or "patch" or "delete")
                {
                    yield return new Operation(method.ToUpperInvariant(), template, node!);
                }
            }
        }
    }

    private static IEnumerable<Variant> VariantsOf(JsonNode document, Operation operation, Ids ids)
    {
        var parameters = operation.Node["parameters"]?.AsArray().Select(parameter => parameter!).ToList() ?? [];
        var pathParameters = parameters.Where(parameter => (string?)parameter["in"] == "path").Select(parameter => (string)parameter["name"]!).ToList();
        var queryParameters = parameters.Where(parameter => (string?)parameter["in"] == "query").Select(parameter => (string)parameter["name"]!).ToList();
        var content = operation.Node["requestBody"]?["content"]?.AsObject();
        var validId = ValidIdFor(operation.Template, ids);
        var validPath = Fill(operation.Template, pathParameters, validId.ToString());
        var validJson = content?["application/json"] is { } json ? BaseBody(document, json, ids).ToJsonString() : null;
        Func<HttpContent?> validBody = validJson is not null ? () => Json(validJson)
            : content?["multipart/form-data"] is not null ? () => Workflow.CsvForm(File.ReadAllBytes(Workflow.IrisPath), "iris.csv", ("name", "iris"))
            : () => null;

        Variant Make(string url, string description, Func<HttpContent?> body, (string, string)? header = null) =>
            new(operation.Method, operation.Template, url, description, body, header);

        // Bad ids in every path parameter, and the valid id for the other variants.
        foreach (var badId in new[] { "not-a-guid", Guid.Empty.ToString(), Guid.NewGuid().ToString(), new string('a', 10_000), "-1", "%00", "..%2F..%2Fetc", "{id}" })
        {
            if (pathParameters.Count > 0)
            {
                yield return Make(Fill(operation.Template, pathParameters, badId), $"bad id {Excerpt(badId)}", validBody);
            }
        }

        // Query parameters: wrong types and huge values, one parameter at a time; an unknown one.
        foreach (var name in queryParameters.Append("unknownFuzzParameter"))
        {
            foreach (var value in BadQueryValues)
            {
                yield return Make($"{validPath}?{name}={Uri.EscapeDataString(value)}", $"query {name}={Excerpt(value)}", validBody);
            }
        }
        yield return Make($"{validPath}?{string.Join("&", queryParameters.Select(name => $"{name}=abc"))}", "every query parameter wrong", validBody);

        // Bodies nobody asked for or in the wrong shape, whatever the operation.
        foreach (var (description, body) in GenericBodies(validJson))
        {
            yield return Make(validPath, description, body);
        }
        yield return Make(validPath, "Accept: application/xml", validBody, ("Accept", "application/xml"));
        yield return Make(validPath, "Accept: garbage", validBody, ("Accept", "garbage/;;;q=x"));
        yield return Make(validPath, "huge header", validBody, ("X-Fuzz", HugeString[..8_000]));

        if (validJson is not null)
        {
            foreach (var (description, body) in JsonMutations(JsonNode.Parse(validJson)!))
            {
                yield return Make(validPath, description, () => Json(body));
            }
        }
        if (content?["multipart/form-data"] is { } form)
        {
            foreach (var (description, body) in MultipartVariants(document, form))
            {
                yield return Make(validPath, description, body);
            }
        }
    }

    private static Guid ValidIdFor(string template, Ids ids) =>
        template.StartsWith("/api/datasets", StringComparison.Ordinal) ? ids.Dataset
        : template.StartsWith("/api/models", StringComparison.Ordinal) ? ids.Model
        : ids.Run;

    private static string Fill(string template, IEnumerable<string> names, string value) =>
        names.Aggregate(template, (path, name) => path.Replace("{" + name + "}", Uri.EscapeDataString(value), StringComparison.Ordinal));

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private static IEnumerable<(string, Func<HttpContent?>)> GenericBodies(string? validJson)
    {
        var text = validJson ?? "{}";
        yield return ("empty JSON body", () => Json(""));
        yield return ("null body", () => Json("null"));
        yield return ("empty object", () => Json("{}"));
        yield return ("array body", () => Json("[]"));
        yield return ("string body", () => Json("\"text\""));
        yield return ("truncated JSON", () => Json(text[..(text.Length / 2)]));
        yield return ("non-JSON bytes", () => new ByteArrayContent([0xFF, 0xFE, 0x00, 0x01, 0x80, 0x7B, 0x22]) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } });
        yield return ("objects nested 200 deep", () => Json(Nest(200, "{\"a\":", "}", "1")));
        yield return ("arrays nested 200 deep", () => Json(Nest(200, "[", "]", "1")));
        yield return ("huge string body", () => Json($"{{\"name\":\"{new string('x', 1_000_000)}\"}}"));
        yield return ("text/plain", () => new StringContent(text, Encoding.UTF8, "text/plain"));
        yield return ("application/xml", () => new StringContent("<run><epochs>1</epochs></run>", Encoding.UTF8, "application/xml"));
        yield return ("form-urlencoded", () => new FormUrlEncodedContent([new("epochs", "1")]));
        yield return ("multipart with JSON part", () => new MultipartFormDataContent { { new StringContent(text), "body" } });
        yield return ("no content type", () => new ByteArrayContent(Encoding.UTF8.GetBytes(text)));
        yield return ("bad charset", () => new StringContent(text) { Headers = { ContentType = MediaTypeHeaderValue.Parse("application/json; charset=klingon") } });
    }

    // ---- JSON bodies ----

    /// <summary>The operation's example if it has one, else a body built from the schema with valid ids.</summary>
    private static JsonNode BaseBody(JsonNode document, JsonNode content, Ids ids)
    {
        var body = content["example"]?.DeepClone() ?? FromSchema(document, content["schema"], ids, "", 0) ?? new JsonObject();
        if (body is JsonObject run && run.ContainsKey("epochs"))
        {
            run["epochs"] = 1;
        }
        if (body is JsonObject predict && predict.ContainsKey("samples"))
        {
            // The schema says only "a list of JSON values": one Iris sample, so that mutations reach the model.
            predict["samples"] = new JsonArray(new JsonArray(5.1, 3.5, 1.4, 0.2));
        }
        return body;
    }

    private static JsonNode? FromSchema(JsonNode document, JsonNode? schema, Ids ids, string name, int depth)
    {
        schema = Resolve(document, schema);
        if (schema is null || depth > 6)
        {
            return null;
        }
        if (schema["example"] is { } example)
        {
            return example.DeepClone();
        }
        if (schema["enum"] is JsonArray { Count: > 0 } values)
        {
            return values[0]!.DeepClone();
        }
        var type = schema["type"] is JsonArray types ? types.Select(t => (string?)t).FirstOrDefault(t => t != "null") : (string?)schema["type"];
        return type switch
        {
            "string" when (string?)schema["format"] == "uuid" => name switch
            {
                "datasetId" => ids.Dataset.ToString(),
                "modelId" => ids.Model.ToString(),
                _ => ids.Run.ToString(),
            },
            "string" => "x",
            "integer" => 1,
            "number" => 0.5,
            "boolean" => true,
            "array" => new JsonArray(FromSchema(document, schema["items"], ids, name, depth + 1)),
            _ when schema["properties"] is JsonObject properties => new JsonObject(properties
                .Select(property => KeyValuePair.Create(property.Key, FromSchema(document, property.Value, ids, property.Key, depth + 1)))),
            _ => null,
        };
    }

    private static JsonNode? Resolve(JsonNode document, JsonNode? schema)
    {
        for (var i = 0; i < 10 && schema?["$ref"] is { } reference; i++)
        {
            schema = ((string)reference!).TrimStart('#', '/').Split('/').Aggregate((JsonNode?)document, (node, key) => node?[key]);
        }
        if (schema?["allOf"] is JsonArray { Count: 1 } allOf)
        {
            return Resolve(document, allOf[0]);
        }
        return schema;
    }

    /// <summary>Each property (and the first element of each array) replaced by every bad value, removed, and joined by an unknown field.</summary>
    private static IEnumerable<(string, string)> JsonMutations(JsonNode body)
    {
        var locations = new List<(string Path, JsonNode Parent, string? Key, int Index)>();
        Collect(body, "", locations, 0);
        foreach (var (path, parent, key, index) in locations)
        {
            var original = key is null ? parent[index] : parent[key];
            foreach (var value in BadJsonValues)
            {
                Set(parent, key, index, Sentinel);
                var text = body.ToJsonString().Replace($"\"{Sentinel}\"", value, StringComparison.Ordinal);
                Set(parent, key, index, original?.DeepClone());
                yield return ($"{path} = {Excerpt(value)}", text);
            }
            if (key is not null)
            {
                var obj = parent.AsObject();
                var position = obj.IndexOf(key);
                obj.Remove(key);
                var text = body.ToJsonString();
                obj.Insert(position, key, original?.DeepClone());
                yield return ($"{path} missing", text);
            }
        }
        foreach (var obj in locations.Select(location => location.Parent).OfType<JsonObject>().Distinct().Prepend(body as JsonObject).OfType<JsonObject>().Distinct())
        {
            obj["unknownFuzzField"] = 1;
            var text = body.ToJsonString();
            obj.Remove("unknownFuzzField");
            yield return ("unknown extra field", text);
        }
    }

    private static void Collect(JsonNode node, string path, List<(string, JsonNode, string?, int)> locations, int depth)
    {
        if (depth > 4)
        {
            return;
        }
        if (node is JsonObject obj)
        {
            foreach (var (key, child) in obj.ToList())
            {
                locations.Add(($"{path}.{key}", obj, key, -1));
                if (child is not null)
                {
                    Collect(child, $"{path}.{key}", locations, depth + 1);
                }
            }
        }
        else if (node is JsonArray { Count: > 0 } array)
        {
            locations.Add(($"{path}[0]", array, null, 0));
            if (array[0] is { } first)
            {
                Collect(first, $"{path}[0]", locations, depth + 1);
            }
        }
    }

    private static void Set(JsonNode parent, string? key, int index, JsonNode? value)
    {
        if (key is null)
        {
            parent.AsArray()[index] = value;
        }
        else
        {
            parent[key] = value;
        }
    }

    // ---- Multipart forms (dataset import) ----

    private static IEnumerable<(string, Func<HttpContent?>)> MultipartVariants(JsonNode document, JsonNode content)
    {
        var iris = File.ReadAllBytes(Workflow.IrisPath);
        var fields = Resolve(document, content["schema"])?["properties"]?.AsObject().Select(property => property.Key)
            .Where(name => name is not ("file" or "labelsFile")).ToList() ?? [];
        Assert.Contains("testFraction", fields);

        yield return ("no file", () => new MultipartFormDataContent { { new StringContent("iris"), "name" } });
        yield return ("empty form", () => new MultipartFormDataContent());
        yield return ("empty file", () => Workflow.CsvForm([], "empty.csv"));
        yield return ("garbage bytes", () => Workflow.CsvForm([.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 % 251))], "garbage.bin"));
        yield return ("garbage gzip", () => Workflow.CsvForm([0x1F, 0x8B, 0x08, 0x00, 0xFF, 0xFF, 0xFF], "data.csv.gz"));
        yield return ("garbage npy", () => Workflow.CsvForm([.. "\u0093NUMPY"u8, 1, 0, 0xFF, 0xFF], "x.npy"));
        yield return ("garbage pickle", () => Workflow.CsvForm([0x80, 0x04, 0x95, 0xFF, 0xFF, 0xFF, 0xFF], "x.pkl"));
        yield return ("header only csv", () => Workflow.CsvForm("a,b,label\n"u8.ToArray(), "header.csv"));
        yield return ("huge file name", () => Workflow.CsvForm(iris, HugeString[..10_000] + ".csv"));
        yield return ("two files", () =>
        {
            var form = Workflow.CsvForm(iris, "iris.csv");
            form.Add(new ByteArrayContent(iris), "file", "again.csv");
            return form;
        });
        yield return ("garbage labels file", () =>
        {
            var form = Workflow.CsvForm(iris, "iris.csv");
            form.Add(new ByteArrayContent([1, 2, 3]), "labelsFile", "labels.idx");
            return form;
        });
        yield return ("unknown field", () => Workflow.CsvForm(iris, "iris.csv", ("unknownFuzzField", "1")));
        yield return ("huge unknown field", () => Workflow.CsvForm(iris, "iris.csv", ("unknownFuzzField", HugeString)));
        yield return ("JSON instead of a form", () => Json("{\"name\":\"iris\"}"));
        yield return ("multipart without boundary", () => new StringContent("--x\r\n\r\n", Encoding.UTF8, "multipart/form-data"));
        foreach (var field in fields)
        {
            foreach (var value in BadFormValues)
            {
                yield return ($"{field}={Excerpt(value)}", () => Workflow.CsvForm(iris, "iris.csv", (field, value)));
            }
            yield return ($"{field} twice", () => Workflow.CsvForm(iris, "iris.csv", (field, "1"), (field, "2")));
        }
    }
}

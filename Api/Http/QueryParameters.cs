using System.Reflection;
using System.Text.RegularExpressions;
using Experiments.Domain.Validation;
using Microsoft.AspNetCore.Http.Metadata;

namespace Experiments.Api;

/// <summary>
/// Refuses query parameters an endpoint does not take, so that <c>?pagesize=10</c> is a 400 naming <c>pageSize</c>
/// instead of a silent default page size. ASP.NET Core binds query parameters whatever their case; here a name must
/// match exactly, as JSON members, form fields and hyperparameters do. Applied once per group; each endpoint's
/// parameters are read from its handler's signature.
/// </summary>
public static partial class QueryParameters
{
    /// <summary>An optional text filter: absent and empty both mean no filter.</summary>
    public static string? NullIfEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;

    public static RouteGroupBuilder RefuseUnknownQueryParameters(this RouteGroupBuilder group)
    {
        group.WithMetadata(new QueryParametersChecked());
        group.AddEndpointFilterFactory((context, next) =>
        {
            var declared = context.MethodInfo.GetParameters().Select(QueryName).OfType<string>().ToArray();
            return invocation =>
            {
                var request = invocation.HttpContext.Request;
                var known = declared.Where(name => !request.RouteValues.ContainsKey(name)).ToArray();
                var unknown = request.Query.Keys.Where(key => key.Length > 0 && !known.Contains(key, StringComparer.Ordinal)).ToList();
                if (unknown.Count == 0)
                {
                    return next(invocation);
                }
                var route = (invocation.HttpContext.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? request.Path.Value ?? "";
                var endpoint = $"{request.Method} {Constraint().Replace(route, "}").TrimEnd('/')}";
                var errors = unknown.ToDictionary(key => key, key => new[] { NearestName.NotOneOf(key, "query parameter", endpoint, known) }, StringComparer.Ordinal);
                return ValueTask.FromResult<object?>(TypedResults.ValidationProblem(errors, title: "The query string has a parameter this endpoint does not take."));
            };
        });
        return group;
    }

    /// <summary>The query name of a handler parameter bound from the query string (explicitly or as a simple type), else null.</summary>
    private static string? QueryName(ParameterInfo parameter)
    {
        var attributes = parameter.GetCustomAttributes(inherit: true);
        if (attributes.OfType<IFromQueryMetadata>().FirstOrDefault() is { } fromQuery)
        {
            return fromQuery.Name ?? parameter.Name;
        }
        if (attributes.Any(attribute => attribute is IFromBodyMetadata or IFromFormMetadata or IFromHeaderMetadata or IFromRouteMetadata or IFromServiceMetadata))
        {
            return null;
        }
        var type = parameter.ParameterType.IsArray ? parameter.ParameterType.GetElementType()! : parameter.ParameterType;
        type = Nullable.GetUnderlyingType(type) ?? type;
        var simple = type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal)
            || type.GetMethod("TryParse", BindingFlags.Public | BindingFlags.Static, [typeof(string), type.MakeByRefType()]) is not null;
        return simple ? parameter.Name : null;
    }

    /// <summary>A route constraint such as <c>:guid</c> in <c>{id:guid}</c>, left out of messages.</summary>
    [GeneratedRegex(@":[^}]*\}")]
    private static partial Regex Constraint();
}

/// <summary>Marks the endpoints whose query string is checked, for the test that no endpoint is left out.</summary>
public sealed class QueryParametersChecked;

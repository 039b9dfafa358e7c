using Experiments.Tests.Support;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Api.Access;

/// <summary>Every endpoint the app maps declares who may call it: a role policy, or that anyone may.</summary>
[Collection(OneAtATime.Name)]
public sealed class EndpointPolicyTests
{
    [Fact]
    public void Every_endpoint_of_the_app_declares_a_policy_or_allows_anyone()
    {
        using var factory = new ApiFactory { Trains = false };
        _ = factory.Server;
        var endpoints = AppEndpoints.Of(factory);
        Assert.NotEmpty(endpoints);
        // The fallback for files outside the static assets' manifest (order int.MaxValue) has no conventions to take a policy; the
        // authorization fallback policy (a reader) is what applies to it, and the matrix test checks that it does.
        var undeclared = endpoints.Where(endpoint => !AppEndpoints.IsAnonymous(endpoint) && AppEndpoints.Policies(endpoint).Count == 0
                && endpoint.Order != int.MaxValue)
            .Select(AppEndpoints.Describe).ToList();
        Assert.True(undeclared.Count == 0, "Endpoints without a declared policy:\n" + string.Join("\n", undeclared));
        var unknown = endpoints.SelectMany(AppEndpoints.Policies).Where(policy => policy is not (Experiments.Domain.Access.Policies.Viewer or Experiments.Domain.Access.Policies.Editor or Experiments.Domain.Access.Policies.Admin))
            .Distinct().ToList();
        Assert.Empty(unknown);
    }
}

/// <summary>The endpoints of the app as its routing sees them.</summary>
public static class AppEndpoints
{
    public static List<RouteEndpoint> Of(ApiFactory factory) =>
        [.. factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()];

    public static bool IsAnonymous(Endpoint endpoint) => endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null;

    public static List<string> Policies(Endpoint endpoint) =>
        [.. endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(data => data.Policy).OfType<string>()];

    public static IReadOnlyList<string> Methods(Endpoint endpoint) =>
        endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["*"];

    public static string Describe(RouteEndpoint endpoint) =>
        $"{string.Join(",", Methods(endpoint))} {endpoint.RoutePattern.RawText} ({endpoint.DisplayName})";
}

using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Experiments.Api.Persistence;

/// <summary>
/// A query compiled with <see cref="EF.CompileAsyncQuery{TContext, TResult}(System.Linq.Expressions.Expression{Func{TContext, IQueryable{TResult}}})"/>
/// once for each model it runs against. EF Core refuses to run a compiled query on a context of another model than the one
/// it was compiled for, and the model of SQLite is not PostgreSQL's (<see cref="Configurations.RunConfiguration"/> computes
/// columns in each engine's SQL): the tests host both in one process.
/// </summary>
public sealed class CompiledPerModel<TQuery> where TQuery : class
{
    private readonly ConditionalWeakTable<IModel, TQuery> _byModel = new();
    private readonly ConditionalWeakTable<IModel, TQuery>.CreateValueCallback _compile;

    public CompiledPerModel(Func<TQuery> compile) => _compile = _ => compile();

    public TQuery For(DbContext db) => _byModel.TryGetValue(db.Model, out var query) ? query : _byModel.GetValue(db.Model, _compile);
}

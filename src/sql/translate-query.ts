/**
 * Prints queries: WITH, SELECT, FROM (Timestream tables through the resolver, WITH queries,
 * subqueries, UNNEST, joins), set operations, ORDER BY and LIMIT. Every output column gets an
 * explicit alias with the name Timestream would show (`_col1` for an unnamed expression).
 */
import type {
  Expr,
  FromItem,
  OrderItem,
  Query,
  QueryBody,
  Select,
  SelectItem,
  TableRef,
  UnnestRef,
} from "./ast.js";
import type { TableResolver, TranslateOptions } from "./contract.js";
import { orderItemSql } from "./function-spec.js";
import { translateCall } from "./functions.js";
import { measureRestrictions } from "./measure-filter.js";
import { noPercentiles, planPercentiles } from "./percentiles.js";
import { quoteIdentifier } from "./quote.js";
import { type Relation, Scope } from "./scope.js";
import { syntaxError } from "./syntax-error.js";
import { type ExpressionContext, type TranslatedQuery, translateExpr } from "./translate-expression.js";
import { type ColumnInfo, elementOf, fromScalarType, type SqlType } from "./types.js";

export class QueryTranslator {
  constructor(
    private readonly resolver: TableResolver,
    private readonly options: TranslateOptions,
  ) {}

  query(query: Query, outer: Scope | undefined): TranslatedQuery {
    const scope = new Scope(outer);
    const ctes: string[] = [];
    for (const cte of query.with) {
      const translated = this.query(cte.query, scope);
      const columns = renameColumns(translated.columns, cte.columns, cte.name, cte.pos);
      scope.addCommonTable({ name: cte.name, columns });
      const columnList = cte.columns === undefined ? "" : `(${cte.columns.map(quoteIdentifier).join(", ")})`;
      ctes.push(`${quoteIdentifier(cte.name)}${columnList} AS (${translated.sql})`);
    }
    const withSql = ctes.length === 0 ? "" : `WITH ${ctes.join(", ")} `;
    if (query.body.kind === "select") {
      const select = this.select(query.body, scope, query);
      return { sql: withSql + select.sql, columns: select.columns };
    }
    const body = this.body(query.body, scope);
    const orderScope = new Scope(scope);
    orderScope.relations.push({ name: "", columns: body.columns });
    const tail = this.tail(query, this.context(orderScope));
    return { sql: `${withSql}${body.sql}${tail}`, columns: body.columns };
  }

  private context(scope: Scope): ExpressionContext {
    return {
      scope,
      options: this.options,
      percentiles: noPercentiles,
      translateQuery: (query, outer) => this.query(query, outer),
      translateCall,
    };
  }

  /** ORDER BY, LIMIT and OFFSET of a query. */
  private tail(query: Query | undefined, ctx: ExpressionContext): string {
    if (query === undefined) return "";
    let sql = "";
    if (query.orderBy.length > 0) sql += ` ORDER BY ${this.orderItems(query.orderBy, ctx)}`;
    if (query.limit !== undefined) sql += ` LIMIT ${translateExpr(query.limit, ctx).sql}`;
    if (query.offset !== undefined) sql += ` OFFSET ${translateExpr(query.offset, ctx).sql}`;
    return sql;
  }

  private orderItems(items: OrderItem[], ctx: ExpressionContext): string {
    return items.map((item) => orderItemSql(translateExpr(item.expr, ctx).sql, item)).join(", ");
  }

  private body(body: QueryBody, scope: Scope): TranslatedQuery {
    switch (body.kind) {
      case "select":
        return this.select(body, scope, undefined);
      case "nested": {
        const inner = this.query(body.query, scope);
        return { sql: `(${inner.sql})`, columns: inner.columns };
      }
      case "values":
        return this.values(body.rows, scope);
      case "setop": {
        const left = this.body(body.left, scope);
        const right = this.body(body.right, scope);
        if (
          left.columns !== undefined &&
          right.columns !== undefined &&
          left.columns.length !== right.columns.length
        ) {
          throw syntaxError(
            body.pos,
            `${body.op} needs the same number of columns on both sides (${left.columns.length} and ${right.columns.length})`,
          );
        }
        const op = `${body.op}${body.all ? " ALL" : ""}`;
        return { sql: `(${left.sql}) ${op} (${right.sql})`, columns: left.columns };
      }
    }
  }

  private values(rows: Expr[][], scope: Scope): TranslatedQuery {
    const ctx = this.context(scope);
    const width = rows[0]!.length;
    const printed = rows.map((row, k) => {
      if (row.length !== width)
        throw syntaxError(row[0]!.pos, `VALUES row ${k + 1} has ${row.length} values, not ${width}`);
      return row.map((e) => translateExpr(e, ctx));
    });
    const columns = printed[0]!.map((value, k) => ({ name: `_col${k}`, type: value.type }));
    const names = columns.map((c) => quoteIdentifier(c.name)).join(", ");
    const list = printed.map((row) => `(${row.map((v) => v.sql).join(", ")})`).join(", ");
    return { sql: `SELECT * FROM (VALUES ${list}) AS hg_values(${names})`, columns };
  }

  private select(select: Select, outer: Scope, query: Query | undefined): TranslatedQuery {
    const scope = new Scope(outer);
    const restrictions = measureRestrictions(select);
    const fromSql = select.from.map((item) => this.fromItem(item, scope, restrictions)).join(", ");
    const ctx = this.context(scope);
    const roots = [
      ...select.items.flatMap((item) => (item.kind === "expr" ? [item.expr] : [])),
      ...(select.having === undefined ? [] : [select.having]),
      ...(query?.orderBy.map((item) => item.expr) ?? []),
    ];
    ctx.percentiles = planPercentiles(roots, ctx);

    const outputs: string[] = [];
    let columns: ColumnInfo[] | undefined = [];
    for (const item of select.items) {
      const expanded = this.selectItem(item, outputs.length, scope, ctx);
      outputs.push(...expanded.sql);
      columns =
        columns === undefined || expanded.columns === undefined
          ? undefined
          : [...columns, ...expanded.columns];
    }

    let sql = `SELECT ${select.distinct ? "DISTINCT " : ""}${outputs.join(", ")}`;
    if (fromSql !== "") sql += ` FROM ${fromSql}`;
    if (select.where !== undefined) sql += ` WHERE ${translateExpr(select.where, ctx).sql}`;
    if (select.groupBy.length > 0) {
      sql += ` GROUP BY ${select.groupBy.map((e) => translateExpr(e, ctx).sql).join(", ")}`;
    }
    if (select.having !== undefined) sql += ` HAVING ${translateExpr(select.having, ctx).sql}`;
    // ORDER BY sees the select's output names first, then its input columns (Presto's rule).
    scope.outputColumns = columns;
    sql += this.tail(query, ctx);
    return { sql, columns };
  }

  private selectItem(
    item: SelectItem,
    index: number,
    scope: Scope,
    ctx: ExpressionContext,
  ): { sql: string[]; columns: ColumnInfo[] | undefined } {
    if (item.kind === "star") {
      const relations =
        item.qualifier === undefined ? scope.relations : [this.qualified(scope, item.qualifier, item.pos)];
      if (relations.length === 0) throw syntaxError(item.pos, "SELECT * needs a FROM clause");
      if (relations.some((relation) => relation.columns === undefined || relation.name === "")) {
        const star = item.qualifier === undefined ? "*" : `${quoteIdentifier(item.qualifier)}.*`;
        return { sql: [star], columns: undefined };
      }
      const columns = relations.flatMap((relation) =>
        relation.columns!.map((column) => ({ relation, column })),
      );
      return {
        sql: columns.map(
          ({ relation, column }) =>
            `${quoteIdentifier(relation.name)}.${quoteIdentifier(column.name)} AS ${quoteIdentifier(column.name)}`,
        ),
        columns: columns.map(({ column }) => column),
      };
    }
    const value = translateExpr(item.expr, ctx);
    const name = item.alias ?? this.defaultName(item.expr, index, scope);
    return { sql: [`${value.sql} AS ${quoteIdentifier(name)}`], columns: [{ name, type: value.type }] };
  }

  private qualified(scope: Scope, qualifier: string, pos: Expr["pos"]): Relation {
    const relation = scope.findRelation(qualifier);
    if (relation === undefined) throw syntaxError(pos, `'${qualifier}' is not a table in the FROM clause`);
    return relation;
  }

  /** The column name Timestream shows for an unaliased select item. */
  private defaultName(expr: Expr, index: number, scope: Scope): string {
    switch (expr.kind) {
      case "column":
        return scope.resolve(expr.parts, expr.pos).name;
      case "measureValue":
        return `measure_value::${expr.type}`;
      case "field":
        return expr.field;
      default:
        return `_col${index}`;
    }
  }

  /** `restrictions`: the measure names the WHERE allows for some of the FROM's Timestream tables. */
  private fromItem(item: FromItem, scope: Scope, restrictions: ReadonlyMap<TableRef, string[]>): string {
    switch (item.kind) {
      case "table":
        return this.table(item, scope, restrictions.get(item));
      case "subquery": {
        const inner = this.query(item.query, scope);
        const name = item.alias?.name ?? "";
        const columns = renameColumns(inner.columns, item.alias?.columns, name, item.pos);
        scope.relations.push({ name, columns });
        return `(${inner.sql})${aliasSql(item.alias)}`;
      }
      case "unnest":
        return this.unnest(item, scope);
      case "join": {
        const left = this.fromItem(item.left, scope, restrictions);
        const rightSql = this.fromItem(item.right, scope, restrictions);
        const right = item.right.kind === "join" ? `(${rightSql})` : rightSql;
        if (item.type === "CROSS") return `${left} CROSS JOIN ${right}`;
        const condition =
          item.on !== undefined
            ? ` ON ${translateExpr(item.on, this.context(scope)).sql}`
            : ` USING (${item.using!.map(quoteIdentifier).join(", ")})`;
        return `${left} ${item.type} JOIN ${right}${condition}`;
      }
    }
  }

  private table(item: TableRef, scope: Scope, measureNames: string[] | undefined): string {
    if (item.database === undefined) {
      const cte = scope.findCommonTable(item.table);
      if (cte === undefined) {
        throw syntaxError(
          item.pos,
          `table '${item.table}' must be named with its database, as "database"."table"`,
        );
      }
      const name = item.alias?.name ?? cte.name;
      scope.relations.push({
        name,
        columns: renameColumns(cte.columns, item.alias?.columns, name, item.pos),
      });
      return `${quoteIdentifier(cte.name)}${aliasSql(item.alias ?? { name })}`;
    }
    const resolved = this.resolver.resolveTable(item.database, item.table);
    const name = item.alias?.name ?? resolved.table;
    const columns = resolved.columns.map((column) => ({
      name: column.name,
      type: fromScalarType(column.type),
    }));
    scope.relations.push({
      name,
      database: item.alias === undefined ? resolved.database : undefined,
      table: item.alias === undefined ? resolved.table : undefined,
      columns: renameColumns(columns, item.alias?.columns, name, item.pos),
    });
    const hasMeasureName = resolved.columns.some(
      (column) => column.role === "MEASURE_NAME" && column.name.toLowerCase() === "measure_name",
    );
    const relationSql =
      measureNames !== undefined && hasMeasureName && resolved.relationForMeasures !== undefined
        ? resolved.relationForMeasures(measureNames)
        : resolved.relationSql;
    return `${relationSql}${aliasSql(item.alias ?? { name })}`;
  }

  /**
   * UNNEST(…) in FROM is a lateral join: DuckDB binds the subquery's references to the FROM items
   * before it. An array of rows (a timeseries) becomes one column per field, as in Presto.
   */
  private unnest(item: UnnestRef, scope: Scope): string {
    const ctx = this.context(scope);
    const args = item.args.map((arg) => translateExpr(arg, ctx));
    const elements = args.map((arg) => elementOf(arg.type));
    const first = elements[0]!;
    const aliasCount = item.alias?.columns?.length;
    let columns: ColumnInfo[] | undefined;
    let sql: string;
    if (args.length === 1 && typeof first === "object" && first.kind === "row") {
      const fields = first.fields.map((f) => `struct_extract(hg_u, '${f.name.replaceAll("'", "''")}')`);
      const ordinality = item.withOrdinality ? ", hg_n" : "";
      const ordinalityColumn = item.withOrdinality ? `, generate_subscripts(${args[0]!.sql}, 1) AS hg_n` : "";
      sql = `(SELECT ${fields.join(", ")}${ordinality} FROM (SELECT unnest(${args[0]!.sql}) AS hg_u${ordinalityColumn}))`;
      columns = first.fields.map((f) => ({ ...f }));
    } else if (
      args.length === 1 &&
      first === "unknown" &&
      aliasCount !== undefined &&
      aliasCount > (item.withOrdinality ? 2 : 1)
    ) {
      const ordinality = item.withOrdinality ? `, generate_subscripts(${args[0]!.sql}, 1) AS hg_n` : "";
      sql = `(SELECT hg_u.*${item.withOrdinality ? ", hg_n" : ""} FROM (SELECT unnest(${args[0]!.sql}) AS hg_u${ordinality}))`;
      columns = undefined;
    } else {
      const unnests = args.map((arg, k) => `unnest(${arg.sql}) AS "_col${k}"`);
      if (item.withOrdinality) {
        const longest =
          args.length === 1
            ? `len(${args[0]!.sql})`
            : `greatest(${args.map((a) => `len(${a.sql})`).join(", ")})`;
        unnests.push(`unnest(generate_series(1, ${longest})) AS hg_n`);
      }
      sql = `(SELECT ${unnests.join(", ")})`;
      columns = elements.map((type, k) => ({ name: `_col${k}`, type }));
    }
    if (columns !== undefined && item.withOrdinality) columns.push({ name: "ordinality", type: "bigint" });
    const name = item.alias?.name ?? "unnest";
    if (columns !== undefined && aliasCount !== undefined && aliasCount !== columns.length) {
      throw syntaxError(
        item.pos,
        `UNNEST produces ${columns.length} column(s) but the alias names ${aliasCount}`,
      );
    }
    const named: ColumnInfo[] | undefined =
      item.alias?.columns?.map((alias, k) => ({
        name: alias,
        type: columns?.[k]?.type ?? ("unknown" as SqlType),
      })) ?? columns;
    scope.relations.push({ name, columns: named });
    const columnList = named === undefined ? "" : `(${named.map((c) => quoteIdentifier(c.name)).join(", ")})`;
    return `${sql} AS ${quoteIdentifier(name)}${columnList}`;
  }
}

function aliasSql(alias: { name: string; columns?: string[] } | undefined): string {
  if (alias === undefined || alias.name === "") return "";
  const columns = alias.columns === undefined ? "" : `(${alias.columns.map(quoteIdentifier).join(", ")})`;
  return ` AS ${quoteIdentifier(alias.name)}${columns}`;
}

/** Applies `AS t(a, b)` column names to known columns (positionally). */
function renameColumns(
  columns: ColumnInfo[] | undefined,
  names: string[] | undefined,
  relation: string,
  pos: Expr["pos"],
): ColumnInfo[] | undefined {
  if (names === undefined) return columns;
  if (columns === undefined) return names.map((name) => ({ name, type: "unknown" }));
  if (names.length !== columns.length) {
    throw syntaxError(
      pos,
      `'${relation}' has ${columns.length} column(s) but ${names.length} column name(s) were given`,
    );
  }
  return columns.map((column, k) => ({ name: names[k]!, type: column.type }));
}

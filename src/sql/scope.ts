/**
 * What names mean inside one SELECT: the relations of its FROM clause (with their columns when
 * known), the WITH queries in reach, lambda parameters, and the enclosing query for correlated
 * subqueries.
 */
import { quoteIdentifier } from "./quote.js";
import { missingColumnError, type SourcePosition, syntaxError } from "./syntax-error.js";
import { type ColumnInfo, fieldOf, type SqlType } from "./types.js";

export interface Relation {
  /** The name that qualifies its columns (`t` in `t.col`): the alias, or the table's name. */
  name: string;
  /** Set for Timestream tables, so that `"db"."table".col` also works. */
  database?: string;
  table?: string;
  /** Undefined when the translator cannot know them (DuckDB still can). */
  columns: ColumnInfo[] | undefined;
}

/** A lambda parameter: its type, and the SQL to print for it (its quoted name unless bound to an expression). */
export interface LambdaParam {
  type: SqlType;
  sql: string;
}

export interface CommonTable {
  name: string;
  columns: ColumnInfo[] | undefined;
}

export interface ResolvedName {
  sql: string;
  type: SqlType;
  /** The column's own name (for Timestream's output column naming). */
  name: string;
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

export class Scope {
  readonly relations: Relation[] = [];
  private readonly commonTables = new Map<string, CommonTable>();
  /** Output columns visible to ORDER BY (select aliases win over input columns there, as in Presto). */
  outputColumns: ColumnInfo[] | undefined;

  constructor(
    readonly parent: Scope | undefined,
    private readonly lambdaParams: ReadonlyMap<string, LambdaParam> = new Map(),
  ) {}

  /** A scope for a lambda body: same relations, plus parameters that shadow columns. */
  withLambda(params: ReadonlyMap<string, LambdaParam>): Scope {
    return new Scope(this, params);
  }

  addCommonTable(table: CommonTable): void {
    this.commonTables.set(table.name.toLowerCase(), table);
  }

  findCommonTable(name: string): CommonTable | undefined {
    return this.commonTables.get(name.toLowerCase()) ?? this.parent?.findCommonTable(name);
  }

  findRelation(name: string): Relation | undefined {
    return this.relations.find((relation) => same(relation.name, name));
  }

  /** Resolves `a`, `t.a`, `db.t.a`, `x.field`; throws for names that cannot exist. */
  resolve(parts: string[], pos: SourcePosition): ResolvedName {
    const found = this.lookup(parts, pos);
    if (found !== undefined) return found;
    if (this.isComplete()) {
      throw missingColumnError(pos, parts.join("."), `column '${parts.join(".")}' does not exist`);
    }
    return { sql: parts.map(quoteIdentifier).join("."), type: "unknown", name: parts[parts.length - 1]! };
  }

  private lookup(parts: string[], pos: SourcePosition): ResolvedName | undefined {
    const [first, ...rest] = parts as [string, ...string[]];
    for (const [name, param] of this.lambdaParams) {
      if (same(name, first)) return this.fields(param.sql, param.type, first, rest);
    }
    if (this.lambdaParams.size > 0) return this.parent?.lookup(parts, pos);
    if (this.outputColumns !== undefined && parts.length === 1) {
      const output = this.outputColumns.find((column) => same(column.name, first));
      if (output !== undefined)
        return { sql: quoteIdentifier(output.name), type: output.type, name: output.name };
    }
    if (rest.length >= 2) {
      const relation = this.relations.find(
        (r) => r.database !== undefined && same(r.database, first) && same(r.table!, rest[0]!),
      );
      if (relation !== undefined) return this.inRelation(relation, rest.slice(1), pos);
    }
    if (rest.length >= 1) {
      const relation = this.findRelation(first);
      if (relation !== undefined) return this.inRelation(relation, rest, pos);
    }
    const matches = this.relations.filter((relation) => relation.columns?.some((c) => same(c.name, first)));
    if (matches.length > 1)
      throw syntaxError(pos, `column '${first}' is ambiguous: qualify it with a table name`);
    if (matches.length === 1) {
      const column = matches[0]!.columns!.find((c) => same(c.name, first))!;
      return this.fields(quoteIdentifier(column.name), column.type, column.name, rest);
    }
    if (!this.relations.every((relation) => relation.columns !== undefined)) return undefined;
    return this.parent?.lookup(parts, pos);
  }

  private inRelation(relation: Relation, parts: string[], pos: SourcePosition): ResolvedName | undefined {
    const [column, ...fields] = parts as [string, ...string[]];
    const qualifier = quoteIdentifier(relation.name);
    if (relation.columns === undefined) {
      return this.fields(`${qualifier}.${quoteIdentifier(column)}`, "unknown", column, fields);
    }
    const info = relation.columns.find((c) => same(c.name, column));
    if (info === undefined) {
      throw missingColumnError(pos, column, `column '${column}' does not exist in '${relation.name}'`);
    }
    return this.fields(`${qualifier}.${quoteIdentifier(info.name)}`, info.type, info.name, fields);
  }

  /** Follows `.field` steps into row values. */
  private fields(sql: string, type: SqlType, name: string, fields: string[]): ResolvedName {
    let result = { sql, type, name };
    for (const field of fields) {
      result = {
        sql: `struct_extract(${result.sql}, '${field.replaceAll("'", "''")}')`,
        type: fieldOf(result.type, field),
        name: field,
      };
    }
    return result;
  }

  /** True when every relation in reach has known columns, so an unknown name is an error. */
  private isComplete(): boolean {
    const ownComplete = this.relations.every((relation) => relation.columns !== undefined);
    return ownComplete && (this.parent === undefined || this.parent.isComplete());
  }
}

/**
 * The syntax tree of Timestream's SQL, as the parser builds it and the translator prints it.
 * Every node keeps the position of its first token so that errors found later still point at it.
 */
import type { UnloadSpec } from "./contract.js";
import type { DurationUnit } from "./lexer.js";
import type { SourcePosition } from "./syntax-error.js";

export interface Node {
  pos: SourcePosition;
}

/** A type name as written in CAST(x AS type), a typed literal, or measure_value::type. */
export interface TypeName extends Node {
  /** Upper-cased: VARCHAR, BIGINT, DOUBLE, TIMESTAMP, ARRAY, … */
  name: string;
  /** Numeric parameters, e.g. VARCHAR(10), DECIMAL(10, 2). */
  params: number[];
  /** For ARRAY(T) / ARRAY<T>. */
  element?: TypeName;
  /** For ROW(name T, …): the fields in order (a field may be unnamed: ROW(T, …)). */
  fields?: { name?: string; type: TypeName }[];
}

export type IntervalUnit = "YEAR" | "MONTH" | "DAY" | "HOUR" | "MINUTE" | "SECOND";

export type Expr =
  | NumberLiteral
  | StringLiteral
  | BooleanLiteral
  | NullLiteral
  | DurationLiteral
  | IntervalLiteral
  | TypedLiteral
  | ColumnRef
  | MeasureValueRef
  | StarExpr
  | UnaryExpr
  | BinaryExpr
  | BetweenExpr
  | InExpr
  | LikeExpr
  | IsNullExpr
  | IsDistinctExpr
  | CaseExpr
  | CastExpr
  | CallExpr
  | ExtractExpr
  | SubqueryExpr
  | ExistsExpr
  | LambdaExpr
  | ArrayExpr
  | RowExpr
  | SubscriptExpr
  | FieldExpr
  | CurrentExpr;

export interface NumberLiteral extends Node {
  kind: "number";
  text: string;
}
export interface StringLiteral extends Node {
  kind: "string";
  value: string;
}
export interface BooleanLiteral extends Node {
  kind: "boolean";
  value: boolean;
}
export interface NullLiteral extends Node {
  kind: "null";
}
/** `15s`, `2h`: a fixed length of time. */
export interface DurationLiteral extends Node {
  kind: "duration";
  amount: bigint;
  unit: DurationUnit;
  text: string;
}
/** `INTERVAL '2' DAY` */
export interface IntervalLiteral extends Node {
  kind: "interval";
  value: string;
  unit: IntervalUnit;
  negative: boolean;
}
/** `TIMESTAMP '2021-09-22 13:00:00'`, `DATE '…'`, `DOUBLE '0.0'` */
export interface TypedLiteral extends Node {
  kind: "typed";
  type: TypeName;
  value: string;
}
/** `region`, `t.region`, `x.value` (a field of a row or lambda parameter). */
export interface ColumnRef extends Node {
  kind: "column";
  parts: string[];
}
/** `measure_value::double` (optionally qualified: `t.measure_value::double`). */
export interface MeasureValueRef extends Node {
  kind: "measureValue";
  qualifier?: string;
  type: string;
}
/** `*` or `t.*` (in a select list, or as count(*)'s argument). */
export interface StarExpr extends Node {
  kind: "star";
  qualifier?: string;
}
export interface UnaryExpr extends Node {
  kind: "unary";
  op: "-" | "+" | "NOT";
  operand: Expr;
}
export type BinaryOp =
  | "+"
  | "-"
  | "*"
  | "/"
  | "%"
  | "||"
  | "="
  | "<>"
  | "<"
  | "<="
  | ">"
  | ">="
  | "AND"
  | "OR";
export interface BinaryExpr extends Node {
  kind: "binary";
  op: BinaryOp;
  left: Expr;
  right: Expr;
}
export interface BetweenExpr extends Node {
  kind: "between";
  not: boolean;
  value: Expr;
  low: Expr;
  high: Expr;
}
export interface InExpr extends Node {
  kind: "in";
  not: boolean;
  value: Expr;
  list?: Expr[];
  query?: Query;
}
export interface LikeExpr extends Node {
  kind: "like";
  not: boolean;
  value: Expr;
  pattern: Expr;
  escape?: Expr;
}
export interface IsNullExpr extends Node {
  kind: "isNull";
  not: boolean;
  value: Expr;
}
export interface IsDistinctExpr extends Node {
  kind: "isDistinct";
  not: boolean;
  left: Expr;
  right: Expr;
}
export interface CaseExpr extends Node {
  kind: "case";
  operand?: Expr;
  whens: { condition: Expr; result: Expr }[];
  otherwise?: Expr;
}
export interface CastExpr extends Node {
  kind: "cast";
  safe: boolean;
  value: Expr;
  type: TypeName;
}
export interface WindowFrame {
  units: "ROWS" | "RANGE" | "GROUPS";
  start: FrameBound;
  end?: FrameBound;
}
export interface FrameBound {
  kind: "UNBOUNDED PRECEDING" | "UNBOUNDED FOLLOWING" | "CURRENT ROW" | "PRECEDING" | "FOLLOWING";
  offset?: Expr;
}
export interface WindowSpec {
  partitionBy: Expr[];
  orderBy: OrderItem[];
  frame?: WindowFrame;
}
export interface CallExpr extends Node {
  kind: "call";
  /** As written (the translator compares case-insensitively). */
  name: string;
  args: Expr[];
  distinct: boolean;
  /** `count(*)` */
  star: boolean;
  /** `agg(x ORDER BY y)` */
  orderBy: OrderItem[];
  /** `agg(x) FILTER (WHERE …)` */
  filter?: Expr;
  over?: WindowSpec;
}
export interface ExtractExpr extends Node {
  kind: "extract";
  field: string;
  value: Expr;
}
export interface SubqueryExpr extends Node {
  kind: "subquery";
  query: Query;
}
export interface ExistsExpr extends Node {
  kind: "exists";
  query: Query;
}
/** `x -> x + 1`, `(s, x) -> s + x` */
export interface LambdaExpr extends Node {
  kind: "lambda";
  params: string[];
  body: Expr;
}
export interface ArrayExpr extends Node {
  kind: "array";
  items: Expr[];
}
/** `ROW(a, b)`: a row value with unnamed fields (CAST(… AS ROW(x T, …)) names them). */
export interface RowExpr extends Node {
  kind: "row";
  items: Expr[];
}
export interface SubscriptExpr extends Node {
  kind: "subscript";
  value: Expr;
  index: Expr;
}
/** `(expr).field`: a field of a row-valued expression that is not a plain name chain. */
export interface FieldExpr extends Node {
  kind: "field";
  value: Expr;
  field: string;
}
/** `current_timestamp`, `current_date`, `current_time` (no parentheses). */
export interface CurrentExpr extends Node {
  kind: "current";
  which: "CURRENT_TIMESTAMP" | "CURRENT_DATE" | "CURRENT_TIME" | "LOCALTIMESTAMP";
}

export interface OrderItem {
  expr: Expr;
  descending: boolean;
  nulls?: "FIRST" | "LAST";
}

export type SelectItem =
  | (Node & { kind: "expr"; expr: Expr; alias?: string })
  | (Node & { kind: "star"; qualifier?: string });

export type FromItem = TableRef | SubqueryRef | UnnestRef | JoinRef;

export interface Alias {
  name: string;
  columns?: string[];
}
/** `"db"."table"` or a CTE's name. */
export interface TableRef extends Node {
  kind: "table";
  database?: string;
  table: string;
  alias?: Alias;
}
export interface SubqueryRef extends Node {
  kind: "subquery";
  query: Query;
  alias?: Alias;
}
/** `UNNEST(ts) [WITH ORDINALITY] AS t(time, value)` */
export interface UnnestRef extends Node {
  kind: "unnest";
  args: Expr[];
  withOrdinality: boolean;
  alias?: Alias;
}
export interface JoinRef extends Node {
  kind: "join";
  type: "INNER" | "LEFT" | "RIGHT" | "FULL" | "CROSS";
  left: FromItem;
  right: FromItem;
  on?: Expr;
  using?: string[];
}

export interface Select extends Node {
  kind: "select";
  distinct: boolean;
  items: SelectItem[];
  /** Comma-separated FROM items (each may be a join tree). */
  from: FromItem[];
  where?: Expr;
  groupBy: Expr[];
  having?: Expr;
}
export interface SetOperation extends Node {
  kind: "setop";
  op: "UNION" | "INTERSECT" | "EXCEPT";
  all: boolean;
  left: QueryBody;
  right: QueryBody;
}
export interface NestedQuery extends Node {
  kind: "nested";
  query: Query;
}
export interface Values extends Node {
  kind: "values";
  rows: Expr[][];
}
export type QueryBody = Select | SetOperation | NestedQuery | Values;

export interface CommonTableExpr extends Node {
  name: string;
  columns?: string[];
  query: Query;
}
export interface Query extends Node {
  with: CommonTableExpr[];
  body: QueryBody;
  orderBy: OrderItem[];
  limit?: Expr;
  offset?: Expr;
}

export type Statement =
  | (Node & { kind: "query"; query: Query })
  | (Node & { kind: "showDatabases"; like?: string })
  | (Node & { kind: "showTables"; database?: string; like?: string })
  | (Node & { kind: "showMeasures"; database: string; table: string; like?: string })
  | (Node & { kind: "describe"; database: string; table: string })
  | (Node & { kind: "unload"; query: Query; unload: UnloadSpec });

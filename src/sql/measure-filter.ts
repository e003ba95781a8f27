/**
 * Measure filters the store can apply itself. Timestream queries almost always keep one measure
 * (`WHERE measure_name = 'cpu_nice'`); printed as is, DuckDB joins every point to the table of
 * measure names to test that. Here we find, in a SELECT's WHERE, the conditions that keep only some
 * measures of a Timestream table of its FROM, so that the translator can ask the store for those
 * measures' rows directly (ResolvedTable.relationForMeasures: ours filters points by measure id).
 *
 * Recognised, when ANDed at the top of the WHERE: `measure_name = 'a'` (either side),
 * `measure_name IN ('a', 'b')`, and ORs of those on the same column. Anything else (NOT, <>,
 * LIKE, NOT IN, a non-literal, a NULL in the list, a condition under OR with something else) is
 * left to DuckDB. Several recognised conditions on one table keep the names all of them allow.
 *
 * The WHERE is still printed in full: the narrower relation only drops rows that the WHERE would
 * drop anyway. That holds wherever the table sits in a join, outer joins included, because these
 * conditions are false on NULL: a row that loses its partner comes back NULL-extended, and the
 * WHERE drops it as it dropped the pair.
 */
import type { Expr, FromItem, Select, TableRef } from "./ast.js";

const MEASURE_NAME = "measure_name";

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** A recognised condition: the column as written (`measure_name`, `t.measure_name`, …) and the names it allows. */
interface MeasureCondition {
  parts: string[];
  names: Set<string>;
}

/** The Timestream tables of `select`'s FROM whose rows the WHERE limits to some measure names. */
export function measureRestrictions(select: Select): Map<TableRef, string[]> {
  const restrictions = new Map<TableRef, Set<string>>();
  if (select.where === undefined) return new Map();
  const leaves = select.from.flatMap(fromLeaves);
  for (const conjunct of conjuncts(select.where)) {
    const condition = measureCondition(conjunct);
    if (condition === undefined) continue;
    const table = targetTable(condition.parts, leaves);
    if (table === undefined) continue;
    const earlier = restrictions.get(table);
    restrictions.set(
      table,
      earlier === undefined ? condition.names : new Set([...earlier].filter((n) => condition.names.has(n))),
    );
  }
  return new Map([...restrictions].map(([table, names]) => [table, [...names]]));
}

function conjuncts(e: Expr): Expr[] {
  return e.kind === "binary" && e.op === "AND" ? [...conjuncts(e.left), ...conjuncts(e.right)] : [e];
}

function measureCondition(e: Expr): MeasureCondition | undefined {
  if (e.kind === "binary" && e.op === "=") {
    if (e.left.kind === "column" && e.right.kind === "string") {
      return { parts: e.left.parts, names: new Set([e.right.value]) };
    }
    if (e.right.kind === "column" && e.left.kind === "string") {
      return { parts: e.right.parts, names: new Set([e.left.value]) };
    }
    return undefined;
  }
  if (e.kind === "in" && !e.not && e.list !== undefined && e.value.kind === "column") {
    const names = new Set<string>();
    for (const item of e.list) {
      if (item.kind !== "string") return undefined;
      names.add(item.value);
    }
    return { parts: e.value.parts, names };
  }
  if (e.kind === "binary" && e.op === "OR") {
    const left = measureCondition(e.left);
    const right = measureCondition(e.right);
    if (left === undefined || right === undefined || !sameParts(left.parts, right.parts)) return undefined;
    return { parts: left.parts, names: new Set([...left.names, ...right.names]) };
  }
  return undefined;
}

function sameParts(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((part, k) => same(part, b[k]!));
}

/** A FROM item that names a relation, with the name that qualifies its columns (as Scope names them). */
interface Leaf {
  item: FromItem;
  name: string;
}

function fromLeaves(item: FromItem): Leaf[] {
  switch (item.kind) {
    case "join":
      return [...fromLeaves(item.left), ...fromLeaves(item.right)];
    case "table":
      return [{ item, name: item.alias?.name ?? item.table }];
    case "subquery":
      return [{ item, name: item.alias?.name ?? "" }];
    case "unnest":
      return [{ item, name: item.alias?.name ?? "unnest" }];
  }
}

/**
 * The Timestream table whose measure_name the column reference means, resolved as Scope resolves
 * it (first matching relation), or undefined when it is not certainly one of this FROM's tables.
 */
function targetTable(parts: string[], leaves: Leaf[]): TableRef | undefined {
  const column = parts[parts.length - 1]!;
  if (!same(column, MEASURE_NAME)) return undefined;
  let leaf: Leaf | undefined;
  if (parts.length === 1) {
    // Unqualified: with one Timestream table in the FROM, the name is that table's column, or
    // ambiguous (an error, from Scope or from DuckDB) if another relation has one too.
    const tables = leaves.filter((l) => l.item.kind === "table" && l.item.database !== undefined);
    leaf = tables.length === 1 ? tables[0] : undefined;
  } else if (parts.length === 2) {
    leaf = leaves.find((l) => same(l.name, parts[0]!));
  } else if (parts.length === 3) {
    leaf = leaves.find(
      (l) =>
        l.item.kind === "table" &&
        l.item.alias === undefined &&
        l.item.database !== undefined &&
        same(l.item.database, parts[0]!) &&
        same(l.item.table, parts[1]!),
    );
  }
  if (leaf === undefined || leaf.item.kind !== "table" || leaf.item.database === undefined) return undefined;
  // Renamed columns (`AS t(a, b, …)`) no longer have the name measure_name.
  if (leaf.item.alias?.columns !== undefined) return undefined;
  return leaf.item;
}

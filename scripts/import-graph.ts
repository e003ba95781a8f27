/**
 * The import graph of Hourglass's parts, and the rules it must keep (issue 13):
 *
 * - A part is a folder directly under src/ (api, cli, store, …); the files directly in src/
 *   (config.ts, errors.ts, …) are shared leaves any part may import.
 * - No cycle between parts. Type-only imports count: a type-only cycle still means two parts that
 *   cannot be understood, built or replaced one without the other.
 * - A part is entered only through its door, its `index.ts` (or a second, light door named in the
 *   rules, when the index would load heavy modules into a light path).
 * - Inside a part, no cycle between files, except the ones listed with a reason (the SQL parser's
 *   natural recursion).
 *
 * The TypeScript compiler's parser reads every import: static, type-only, `export … from`, and
 * `import("…")` with a literal. Only relative specifiers are followed; packages are not parts.
 */
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

/** One import of one file by another, both relative to the source root, with the line it is on. */
export interface ImportEdge {
  from: string;
  to: string;
  line: number;
  /** The import statement as written (first line), for the failure message. */
  text: string;
  typeOnly: boolean;
  kind: "import" | "export-from" | "dynamic";
}

/** A cycle between files of one part that is allowed, and why. */
export interface AllowedFileCycle {
  files: string[];
  reason: string;
}

/** An import into another part that skips its index.ts and is tolerated for now (a ratchet entry). */
export interface AllowedBypass {
  from: string;
  to: string;
}

export interface ImportRules {
  /** Extra doors a part may be entered by besides its index.ts, each with the reason. */
  doors: { file: string; reason: string }[];
  fileCycles: AllowedFileCycle[];
  /** Bypasses not fixed yet: the list may only shrink (an entry that no longer occurs fails too). */
  bypasses: AllowedBypass[];
}

export interface Violation {
  rule: "part-cycle" | "bypass" | "file-cycle" | "unresolved" | "stale-allowance";
  message: string;
}

const sourceExtensions = [".ts", ".tsx", ".mts", ".mjs", ".js"];

/** Every source file under root, relative to it, with forward slashes, sorted. */
export function listSourceFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (sourceExtensions.some((ext) => entry.name.endsWith(ext)) && !entry.name.endsWith(".d.ts")) {
        files.push(toPosix(path.relative(root, full)));
      }
    }
  };
  walk(root);
  return files.sort();
}

/** The part a file belongs to: its first folder under the root, or "" for a shared root file. */
export function partOf(file: string): string {
  const slash = file.indexOf("/");
  return slash < 0 ? "" : file.slice(0, slash);
}

/**
 * Every relative import of every file under root. Specifiers are resolved the NodeNext way: `.js`
 * names the `.ts`/`.tsx` source beside it. An import that names no file becomes an "unresolved"
 * violation rather than being skipped silently.
 */
export function collectImports(root: string): { edges: ImportEdge[]; unresolved: Violation[] } {
  const files = new Set(listSourceFiles(root));
  const edges: ImportEdge[] = [];
  const unresolved: Violation[] = [];
  for (const file of files) {
    const text = fs.readFileSync(path.join(root, file), "utf8");
    const kind = file.endsWith(".tsx")
      ? ts.ScriptKind.TSX
      : file.endsWith(".ts")
        ? ts.ScriptKind.TS
        : ts.ScriptKind.JS;
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
    for (const found of importsOf(source)) {
      if (!found.specifier.startsWith(".")) continue;
      // A stylesheet or other asset the bundler takes in is no module of ours.
      if (!sourceExtensions.includes(path.extname(found.specifier)) && path.extname(found.specifier) !== "")
        continue;
      const target = resolveSpecifier(file, found.specifier, files);
      const line = source.getLineAndCharacterOfPosition(found.node.getStart(source)).line + 1;
      const statement = found.node.getText(source).split("\n")[0] ?? "";
      if (target === undefined) {
        unresolved.push({
          rule: "unresolved",
          message: `src/${file}:${line} imports "${found.specifier}", which names no source file: fix the path (NodeNext wants the .js name of a .ts file).`,
        });
        continue;
      }
      edges.push({
        from: file,
        to: target,
        line,
        text: statement,
        typeOnly: found.typeOnly,
        kind: found.kind,
      });
    }
  }
  return { edges, unresolved };
}

interface FoundImport {
  specifier: string;
  node: ts.Node;
  typeOnly: boolean;
  kind: ImportEdge["kind"];
}

function importsOf(source: ts.SourceFile): FoundImport[] {
  const found: FoundImport[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      // `import type { A }` and `import { type A, type B }` both vanish at run time.
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((element) => element.isTypeOnly)));
      found.push({ specifier: node.moduleSpecifier.text, node, typeOnly, kind: "import" });
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      const typeOnly =
        node.isTypeOnly ||
        (node.exportClause !== undefined &&
          ts.isNamedExports(node.exportClause) &&
          node.exportClause.elements.length > 0 &&
          node.exportClause.elements.every((element) => element.isTypeOnly));
      found.push({ specifier: node.moduleSpecifier.text, node, typeOnly, kind: "export-from" });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push({ specifier: node.arguments[0].text, node, typeOnly: false, kind: "dynamic" });
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      // `typeof import("./x.js")` in a type position.
      found.push({ specifier: node.argument.literal.text, node, typeOnly: true, kind: "dynamic" });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function resolveSpecifier(from: string, specifier: string, files: Set<string>): string | undefined {
  const joined = toPosix(path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier)));
  const candidates = [joined];
  if (joined.endsWith(".js")) candidates.push(`${joined.slice(0, -3)}.ts`, `${joined.slice(0, -3)}.tsx`);
  if (joined.endsWith(".mjs")) candidates.push(`${joined.slice(0, -4)}.mts`);
  // The UI's browser code is bundled (esbuild) and names its modules without an extension.
  candidates.push(`${joined}.ts`, `${joined}.tsx`);
  return candidates.find((candidate) => files.has(candidate));
}

/** Every rule broken by these edges, given the allowances. Empty when the graph is clean. */
export function checkImportGraph(edges: ImportEdge[], rules: ImportRules): Violation[] {
  return [...partCycles(edges), ...bypasses(edges, rules), ...fileCycles(edges, rules)];
}

function describe(edge: ImportEdge): string {
  return `src/${edge.from}:${edge.line} ${edge.text}${edge.typeOnly ? "  (type-only: counts too)" : ""}`;
}

function partCycles(edges: ImportEdge[]): Violation[] {
  const between = new Map<string, ImportEdge[]>();
  for (const edge of edges) {
    const a = partOf(edge.from);
    const b = partOf(edge.to);
    if (a === b || a === "" || b === "") continue;
    const key = `${a}>${b}`;
    between.set(key, [...(between.get(key) ?? []), edge]);
  }
  const graph = new Map<string, Set<string>>();
  for (const key of between.keys()) {
    const [a, b] = key.split(">") as [string, string];
    if (!graph.has(a)) graph.set(a, new Set());
    graph.get(a)!.add(b);
  }
  const violations: Violation[] = [];
  for (const component of stronglyConnected(graph)) {
    if (component.length < 2) continue;
    const members = new Set(component);
    const lines: string[] = [];
    for (const [key, list] of between) {
      const [a, b] = key.split(">") as [string, string];
      if (members.has(a) && members.has(b)) {
        lines.push(`  ${a} -> ${b}:`, ...list.map((edge) => `    ${describe(edge)}`));
      }
    }
    violations.push({
      rule: "part-cycle",
      message: [
        `The parts ${component.join(", ")} import each other in a cycle:`,
        ...lines,
        "  What to do: move what both sides need into the part lower down (or a leaf file of it), or pass it in as a parameter/callback, so imports go one way only.",
      ].join("\n"),
    });
  }
  return violations;
}

function bypasses(edges: ImportEdge[], rules: ImportRules): Violation[] {
  const doors = new Set(rules.doors.map((door) => door.file));
  const allowed = new Set(rules.bypasses.map((entry) => `${entry.from}>${entry.to}`));
  const seen = new Set<string>();
  const violations: Violation[] = [];
  for (const edge of edges) {
    const a = partOf(edge.from);
    const b = partOf(edge.to);
    if (b === "" || a === b) continue;
    if (edge.to === `${b}/index.ts` || doors.has(edge.to)) continue;
    const key = `${edge.from}>${edge.to}`;
    seen.add(key);
    if (allowed.has(key)) continue;
    violations.push({
      rule: "bypass",
      message: [
        `src/${edge.from} reaches into the part ${b} past its door (src/${b}/index.ts):`,
        `  ${describe(edge)}`,
        `  What to do: export what is needed from src/${b}/index.ts and import "…/${b}/index.js" instead.`,
      ].join("\n"),
    });
  }
  for (const entry of rules.bypasses) {
    if (!seen.has(`${entry.from}>${entry.to}`)) {
      violations.push({
        rule: "stale-allowance",
        message: `The allowed bypass src/${entry.from} -> src/${entry.to} no longer occurs: delete it from the list (the list may only shrink).`,
      });
    }
  }
  return violations;
}

function fileCycles(edges: ImportEdge[], rules: ImportRules): Violation[] {
  const graph = new Map<string, Set<string>>();
  for (const edge of edges) {
    if (partOf(edge.from) !== partOf(edge.to) || partOf(edge.from) === "") continue;
    if (!graph.has(edge.from)) graph.set(edge.from, new Set());
    graph.get(edge.from)!.add(edge.to);
  }
  const allowed = new Map(rules.fileCycles.map((cycle) => [[...cycle.files].sort().join(" "), cycle]));
  const used = new Set<string>();
  const violations: Violation[] = [];
  for (const component of stronglyConnected(graph)) {
    const selfImport = component.length === 1 && graph.get(component[0]!)?.has(component[0]!);
    if (component.length < 2 && !selfImport) continue;
    const key = [...component].sort().join(" ");
    if (allowed.has(key)) {
      used.add(key);
      continue;
    }
    const members = new Set(component);
    const inside = edges.filter((edge) => members.has(edge.from) && members.has(edge.to));
    violations.push({
      rule: "file-cycle",
      message: [
        `Files of the part ${partOf(component[0]!)} import each other in a cycle:`,
        ...inside.map((edge) => `  ${describe(edge)}`),
        "  What to do: move what both need into a file neither imports back (types into a types file), or pass it in; if the recursion is natural (a recursive-descent parser), list the cycle with its reason in the rules.",
      ].join("\n"),
    });
  }
  for (const [key] of allowed) {
    if (!used.has(key)) {
      violations.push({
        rule: "stale-allowance",
        message: `The allowed file cycle {${key}} no longer occurs as listed: update or delete it in the rules.`,
      });
    }
  }
  return violations;
}

/** Tarjan's strongly connected components; each component's nodes sorted, components in a stable order. */
function stronglyConnected(graph: Map<string, Set<string>>): string[][] {
  const nodes = new Set<string>();
  for (const [from, targets] of graph) {
    nodes.add(from);
    for (const to of targets) nodes.add(to);
  }
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      components.push(component.sort());
    }
  };
  for (const node of [...nodes].sort()) if (!index.has(node)) connect(node);
  return components;
}

function toPosix(file: string): string {
  return file.split(path.sep).join("/");
}

/**
 * A DAG file fuzzer for the DAG processor: folders of random and mutated DAG files (the examples
 * and small fixtures, truncated, with lines deleted, duplicated or swapped, with `while (true) {}`,
 * `throw`, `process.exit(n)`, endless waits, huge arrays, syntax garbage, weird ids, schedules and
 * start dates, cyclic task dependencies injected), with untouched good files among them, loaded by
 * parseDags with a small import timeout and memory cap while a timer measures the caller's event
 * loop.
 *
 * The rules: parseDags resolves within a bound; every file is a loaded DAG, an import error of
 * that file with a message, or a warning of that file (a file that defines no DAG); every good file
 * loads; the caller's event loop never stalls for 1 s.
 *
 * Used by test/workflows/dag-fuzz.test.ts (a few seconds) and bench/fuzz-dags.ts (minutes).
 */
import fs from "node:fs";
import path from "node:path";
import { parseDags } from "../../src/workflows/index.js";
import { random } from "./write-fuzz.js";

export interface DagFuzzOptions {
  /** A folder to create the DAG folders in (one per round). */
  root: string;
  seconds: number;
  seed: number;
  /** Mutated files per round (default 20), and good files among them (default 3). */
  filesPerRound?: number;
  goodPerRound?: number;
  /**
   * Files per round at most that stop the parse process (a loop, a wait, an exit, a heap hog):
   * each costs a new parse process, about a second on a busy machine (default 2).
   */
  stoppersPerRound?: number;
  importTimeoutMs?: number;
  memoryLimitMb?: number;
}

export interface DagFuzzProblem {
  what: string;
  file: string;
  text: string;
}

export interface DagFuzzReport {
  rounds: number;
  files: number;
  loaded: number;
  importErrors: number;
  warnedOnly: number;
  problems: DagFuzzProblem[];
  slowestParseMs: number;
  /** The longest the caller's event loop went without turning (a 20 ms timer's worst delay). */
  maxLoopStallMs: number;
}

const EXAMPLES = path.resolve(import.meta.dirname, "../../examples/dags");

const WITH_DEPENDENCIES = `import { dag, task } from "hourglass";
import { table } from "./_helpers.ts";

export default dag({
  id: "fixture-chain",
  schedule: "@hourly",
  startDate: "2021-09-21T00:00:00Z",
  catchup: false,
  tags: ["fuzz"],
  params: { table: { type: "string", default: table } },
  tasks: [
    task({ id: "extract", run: () => table }),
    task({ id: "transform", upstream: ["extract"], run: () => 1 }),
    task({ id: "load", upstream: ["transform"], retries: 2, run: () => 2 }),
  ],
});
`;

const TWO_EXPORTS = `import { dag, task } from "hourglass";

export const first = dag({
  id: "fixture-first",
  schedule: "0 */2 * * *",
  startDate: "2021-09-21T00:00:00Z",
  endDate: "2021-09-23T00:00:00Z",
  tasks: [task({ id: "a", run: () => "a" })],
});
export const second = dag({
  id: "fixture-second",
  schedule: "@daily",
  startDate: "2021-01-01T00:00:00Z",
  tasks: [task({ id: "b", run: async () => "b" }), task({ id: "c", upstream: ["b"], run: () => "c" })],
});
`;

/** A good DAG file: each round has a few, and each must load whatever the files around it do. */
export const goodDag = (id: string) => `import { dag, task } from "hourglass";
import { table } from "./_helpers.ts";

export default dag({
  id: "${id}",
  schedule: "@hourly",
  startDate: "2021-09-21T00:00:00Z",
  tasks: [task({ id: "t", run: () => table }), task({ id: "u", upstream: ["t"], run: () => 1 })],
});
`;

/** The files the mutations start from. */
export function dagCorpus(): string[] {
  const examples = fs
    .readdirSync(EXAMPLES)
    .filter((name) => name.endsWith(".ts"))
    .sort()
    .map((name) => fs.readFileSync(path.join(EXAMPLES, name), "utf8"));
  return [...examples, WITH_DEPENDENCIES, TWO_EXPORTS];
}

/** Lines that stop the parse process: a new one is started for the files after. */
const STOPPERS = [
  "while (true) {}",
  "for (;;) {}",
  "await new Promise(() => {});",
  "process.exit(3);",
  "process.exit();",
  "process.kill(process.pid, 'SIGTERM');",
  "const hog: string[][] = []; for (;;) hog.push(new Array(100_000).fill('x'));",
];
const THROWERS = [
  'throw new Error("boom");',
  "throw 42;",
  "throw null;",
  "await Promise.reject(new Error('rejected at import'));",
  "function deep(n: number): number { return deep(n + 1) + 1; } deep(0);",
  "null.x;",
  "undefined();",
  'JSON.parse("{");',
  "new Array(-1);",
  "const huge = new Array(1_000_000).fill(7);",
  "const bigText = 'x'.repeat(5_000_000);",
  "setInterval(() => {}, 1000);",
  "setTimeout(() => { throw new Error('later'); }, 0);",
  "Promise.reject(new Error('unhandled'));",
  "console.log('printed at import'); console.error('x'.repeat(10_000));",
  'import nope from "./does-not-exist.ts";',
  'import { nothing } from "hourglass";',
  'import fs from "node:fs"; fs.readFileSync("/nope");',
];
const GARBAGE = [
  "}",
  "{",
  ")",
  "(((",
  ";;",
  "`",
  "'",
  '"',
  "/*",
  "<T>",
  "@@",
  "\u0000",
  "\ufeff",
  "😀",
  "export default",
  "import",
  "=>",
  "as any as",
  "#!",
  "<<<<<<< HEAD",
];
const WEIRD_IDS = [
  "",
  ".",
  "..",
  "a/b",
  "a b",
  "tab\\tid",
  "x".repeat(300),
  "日本",
  "\\u0000",
  "-",
  "__proto__",
  "constructor",
  "timestream-airflow-demo",
  "fixture-chain",
  "a'b",
  'a\\"b',
];
const WEIRD_VALUES = [
  '"* * *"',
  '"@garbage"',
  '"99 99 * * *"',
  '"0 */0 * * *"',
  '"@once"',
  "null",
  "undefined",
  "5",
  "-1",
  "1e308",
  "NaN",
  "{}",
  "[]",
  '"not a date"',
  '"9999-99-99"',
  '"2021-09-21"',
  "{ daysAgo: -1e9 }",
  "{ daysAgo: 1e12 }",
  "true",
  '"x".repeat(100_000)',
  "Symbol()",
  "() => 1",
  "new Date(NaN)",
];

type Rng = () => number;
const pick = <T>(r: Rng, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

/** One mutated file; `stops` says whether it may stop the parse process. */
export function mutateDag(r: Rng, source: string, allowStopper: boolean): { text: string; stops: boolean } {
  let lines = source.split("\n");
  let stops = false;
  const mutations = 1 + Math.floor(r() * 3);
  for (let m = 0; m < mutations; m++) {
    const at = Math.floor(r() * lines.length);
    switch (Math.floor(r() * 14)) {
      case 0: {
        const text = lines.join("\n");
        lines = text.slice(0, Math.floor(r() * text.length)).split("\n");
        break;
      }
      case 1:
        lines.splice(at, 1 + Math.floor(r() * 3));
        break;
      case 2:
        lines.splice(at, 0, ...lines.slice(at, at + 1 + Math.floor(r() * 3)));
        break;
      case 3: {
        const other = Math.floor(r() * lines.length);
        [lines[at], lines[other]] = [lines[other]!, lines[at]!];
        break;
      }
      case 4:
        if (allowStopper && !stops) {
          lines.splice(at, 0, pick(r, STOPPERS));
          stops = true;
        } else {
          lines.splice(at, 0, pick(r, THROWERS));
        }
        break;
      case 5:
      case 6:
        lines.splice(at, 0, pick(r, THROWERS));
        break;
      case 7: {
        const line = lines[at] ?? "";
        const cut = Math.floor(r() * (line.length + 1));
        lines[at] = line.slice(0, cut) + pick(r, GARBAGE) + line.slice(cut);
        break;
      }
      case 8:
        lines = lines.map((l) => l.replace(/id: "[^"]*"/, () => `id: "${pick(r, WEIRD_IDS)}"`));
        break;
      case 9:
        lines = lines.map((l) =>
          l.replace(
            /(schedule|startDate|endDate|catchup|retries|dagrunTimeoutMs): [^,\n]*/,
            (_, key) => `${key}: ${pick(r, WEIRD_VALUES)}`,
          ),
        );
        break;
      case 10:
        // A cycle: the first task waits for the last (or for itself, or for a task that is not there).
        lines = lines.map((l) =>
          l.replace(
            /task\(\{ id: "([^"]*)", /,
            (whole, id) =>
              `${whole}upstream: [${pick(r, ['"load"', '"c"', `"${id}"`, '"nope"', "5", '"load", "load"'])}], `,
          ),
        );
        break;
      case 11:
        lines.splice(
          at,
          0,
          pick(r, [
            "const big = Array.from({ length: 200_000 }, (_, i) => ({ i, s: String(i) }));",
            `const tasks = Array.from({ length: ${pick(r, [1000, 5000])} }, (_, i) => i);`,
            "export const many = Array.from({ length: 500 }, () => 1);",
          ]),
        );
        break;
      case 12:
        lines = lines.map((l) => l.replace(/"[^"]*"/, () => pick(r, WEIRD_VALUES)));
        break;
      default:
        lines.splice(
          at,
          0,
          pick(r, ["export default 5;", "export default null;", "export {};", "export default dag;"]),
        );
    }
  }
  return { text: lines.join("\n"), stops };
}

/** Runs rounds of parseDags over fuzzed folders for `seconds` (at least one round). */
export async function runDagFuzz(options: DagFuzzOptions): Promise<DagFuzzReport> {
  const report: DagFuzzReport = {
    rounds: 0,
    files: 0,
    loaded: 0,
    importErrors: 0,
    warnedOnly: 0,
    problems: [],
    slowestParseMs: 0,
    maxLoopStallMs: 0,
  };
  const r = random(options.seed);
  const corpus = dagCorpus();
  const filesPerRound = options.filesPerRound ?? 20;
  const goodPerRound = options.goodPerRound ?? 3;
  const stoppersPerRound = options.stoppersPerRound ?? 2;
  const importTimeoutMs = options.importTimeoutMs ?? 500;
  const problem = (what: string, file: string, text: string) => {
    if (report.problems.length < 20) report.problems.push({ what, file, text: text.slice(0, 3000) });
  };
  // The bound on one parse: a parse process per stopper, each with time to start on a busy machine.
  const parseLimitMs = (stoppersPerRound + 1) * (20_000 + importTimeoutMs);

  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    report.maxLoopStallMs = Math.max(report.maxLoopStallMs, now - last);
    last = now;
  }, 20);
  const deadline = Date.now() + options.seconds * 1000;
  try {
    do {
      const dir = path.join(options.root, `round-${report.rounds}`);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, "_helpers.ts"), 'export const table = "airflow-table";\n');
      const texts = new Map<string, string>();
      const good = new Map<string, string>();
      const goodAt = new Set(Array.from({ length: goodPerRound }, () => Math.floor(r() * filesPerRound)));
      let stoppers = 0;
      for (let i = 0; i < filesPerRound; i++) {
        const name = `f-${String(i).padStart(3, "0")}`;
        if (goodAt.has(i)) {
          const file = path.join(dir, `${name}.ts`);
          good.set(file, `fuzz-good-${report.rounds}-${i}`);
          texts.set(file, goodDag(good.get(file)!));
          continue;
        }
        const mutated = mutateDag(r, pick(r, corpus), stoppers < stoppersPerRound);
        if (mutated.stops) stoppers++;
        texts.set(path.join(dir, `${name}${pick(r, [".ts", ".ts", ".ts", ".js", ".mjs"])}`), mutated.text);
      }
      for (const [file, text] of texts) fs.writeFileSync(file, text);

      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const bag = await Promise.race([
        parseDags(dir, { importTimeoutMs, memoryLimitMb: options.memoryLimitMb ?? 128, onOutput: () => {} }),
        new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), parseLimitMs);
        }),
      ]).finally(() => clearTimeout(timer));
      const ms = performance.now() - started;
      report.slowestParseMs = Math.max(report.slowestParseMs, ms);
      report.rounds++;
      if (bag === null) {
        problem(`parseDags did not resolve within ${parseLimitMs} ms`, dir, "");
        break;
      }
      const dagFiles = new Set([...bag.dags.values()].map((loaded) => loaded.file));
      for (const [file, text] of texts) {
        report.files++;
        const errors = bag.importErrors.filter((e) => e.file === file);
        if (dagFiles.has(file)) report.loaded++;
        else if (errors.length > 0) report.importErrors++;
        else if (bag.warnings.some((w) => w.file === file)) report.warnedOnly++;
        else problem("neither a DAG, an import error nor a warning", file, text);
        for (const error of errors) {
          if (typeof error.message !== "string" || error.message.trim() === "")
            problem("an import error without a message", file, text);
        }
      }
      for (const error of bag.importErrors) {
        if (!texts.has(error.file))
          problem(`an import error of a file not in the folder: ${error.message}`, error.file, "");
      }
      for (const [file, id] of good) {
        if (bag.dags.get(id)?.file !== file) {
          const why = bag.importErrors.find((e) => e.file === file)?.message ?? "not loaded";
          problem(`the good DAG ${id} did not load: ${why}`, file, texts.get(file)!);
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    } while (Date.now() < deadline && report.problems.length === 0);
  } finally {
    clearInterval(ticker);
  }
  return report;
}

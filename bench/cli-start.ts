/**
 * The CLI's start time, the cost every command pays: `hourglass --help`, and a query against a
 * running server (the server started once, from dist/), each run from dist/ and, as the baseline,
 * from the TypeScript sources through tsx (HOURGLASS_FROM_SOURCE=1, what every call cost before
 * dist/ existed), interleaved round by round so load changes hit both alike. Also node's own start
 * (`node -e ''`, the floor) and the cost of bin/hourglass.js's check that dist/ is not older than
 * src/. Prints medians and the ratios. Build first: `npm run build`.
 *
 *   node --import tsx bench/cli-start.ts [--rounds 10]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { reasonToRunSources, sourceNewerThan } from "../bin/code-choice.js";
import { arg, median, tempDir } from "./util.js";

const rounds = arg("rounds", 10);
const root = `${path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")}/`;
const bin = path.join(root, "bin", "hourglass.js");
const load = () =>
  os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");

const why = reasonToRunSources(root, {});
if (why !== null) {
  console.error(`bin/hourglass.js would not run dist/ (${why}): run \`npm run build\` first`);
  process.exit(1);
}

const loadAtStart = load();
const dir = tempDir("hg-bench-cli-start-");
const state = path.join(dir, "state");

/** Runs node with `args`, returns the wall time in ms; fails loudly on a non-zero exit. */
async function timeMs(args: string[], env: Record<string, string> = {}): Promise<number> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, ...env },
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const [code] = await once(child, "exit");
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  if (code !== 0) throw new Error(`node ${args.join(" ")} exited ${code}: ${stderr}`);
  return elapsed;
}

/** `hourglass up` from dist/, until it says it is up. */
async function startServer(): Promise<ChildProcess> {
  const dags = path.join(dir, "dags");
  fs.mkdirSync(dags, { recursive: true });
  const child = spawn(
    process.execPath,
    [bin, "--state-dir", state, "up", "--port", "0", "--workers", "1", "--dags", dags],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let output = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (d: Buffer) => {
      output += d.toString();
      if (output.includes("press Ctrl+C to stop")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`hourglass up exited ${code}: ${output}`)));
  });
  return child;
}

const server = await startServer();
const cli = (...args: string[]) => [bin, "--state-dir", state, ...args];
await timeMs(cli("db", "create", "bench-db"));
await timeMs(cli("table", "create", "bench-db", "bench-table"));
const query = cli("query", 'SELECT count(*) AS n FROM "bench-db"."bench-table"', "--format", "json");
const fromSource = { HOURGLASS_FROM_SOURCE: "1" };

const cases: Array<{ name: string; args: string[]; env?: Record<string, string> }> = [
  { name: "node -e '' (node's own start)", args: ["-e", ""] },
  { name: "hourglass --help, dist/", args: [bin, "--help"] },
  { name: "hourglass --help, sources (tsx)", args: [bin, "--help"], env: fromSource },
  { name: "hourglass query (server running), dist/", args: query },
  { name: "hourglass query (server running), sources (tsx)", args: query, env: fromSource },
];
const times = cases.map(() => [] as number[]);
try {
  for (let round = 0; round < rounds; round++) {
    for (const [i, c] of cases.entries()) times[i]!.push(await timeMs(c.args, c.env));
  }
} finally {
  server.kill("SIGINT");
  await once(server, "exit");
  fs.rmSync(dir, { recursive: true, force: true });
}

const checkMs: number[] = [];
for (let i = 0; i < rounds * 10; i++) {
  const started = process.hrtime.bigint();
  sourceNewerThan(root, Number.MAX_SAFE_INTEGER);
  checkMs.push(Number(process.hrtime.bigint() - started) / 1e6);
}

const medians = times.map((t) => median(t));
console.log(`rounds: ${rounds}; load average at start ${loadAtStart}, at end ${load()}`);
for (const [i, c] of cases.entries())
  console.log(`${c.name.padEnd(50)} ${(medians[i]! / 1000).toFixed(3)} s`);
console.log(`${"dist/ staleness check (in bin/hourglass.js)".padEnd(50)} ${median(checkMs).toFixed(2)} ms`);
const [bare, helpDist, helpSource, queryDist, querySource] = medians as [
  number,
  number,
  number,
  number,
  number,
];
console.log(`--help: sources / dist = ${(helpSource / helpDist).toFixed(1)}x (goal: dist under 0.15 s)`);
console.log(`query:  sources / dist = ${(querySource / queryDist).toFixed(1)}x (goal: dist under 0.3 s)`);
console.log(
  `above node's own start: --help ${((helpDist - bare) / 1000).toFixed(3)} s from dist/, ${((helpSource - bare) / 1000).toFixed(3)} s from the sources`,
);

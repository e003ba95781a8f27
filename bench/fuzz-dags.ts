/**
 * The DAG file fuzzer of test/workflows/dag-fuzz.test.ts, for longer: rounds of `--files` random
 * and mutated DAG files (with 3 good ones among them and at most `--stoppers` that stop the parse
 * process) in a temp folder, each parsed by the DAG processor with a 500 ms import timeout and a
 * 128 MB heap, for `--seconds`. Prints the files by outcome, the slowest parse and the caller's
 * longest event-loop stall; exits 1 when a parse did not resolve, a file was not accounted for,
 * a good file did not load, or the event loop stalled for 1 s.
 *
 *   node --import tsx bench/fuzz-dags.ts [--seconds 120] [--files 40] [--stoppers 3] [--seed 1]
 */
import fs from "node:fs";
import { runDagFuzz } from "../test/support/dag-fuzz.js";
import { arg, tempDir } from "./util.js";

const seconds = arg("seconds", 120);
const files = arg("files", 40);
const stoppers = arg("stoppers", 3);
const seed = arg("seed", Date.now() % 100_000);

const root = tempDir("hg-bench-fuzz-dags-");
let failed = false;
try {
  console.log(`fuzzing DAG files for ${seconds} s, ${files} files a round, seed ${seed}`);
  const report = await runDagFuzz({
    root,
    seconds,
    seed,
    filesPerRound: files,
    goodPerRound: 3,
    stoppersPerRound: stoppers,
  });
  console.log(`rounds             ${report.rounds}`);
  console.log(
    `files              ${report.files}: ${report.loaded} loaded, ${report.importErrors} import errors, ${report.warnedOnly} warnings only`,
  );
  console.log(`slowest parse      ${report.slowestParseMs.toFixed(0)} ms`);
  console.log(`event loop stall   ${report.maxLoopStallMs.toFixed(0)} ms at most`);
  for (const problem of report.problems) console.log("PROBLEM", JSON.stringify(problem));
  failed = report.problems.length > 0 || report.maxLoopStallMs >= 1000;
  console.log(failed ? "FAILED" : "ok");
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

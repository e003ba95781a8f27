/**
 * DAG files cannot break the DAG processor: a few seconds of random and mutated DAG files (loops,
 * exits, throws, heap hogs, syntax garbage, weird ids and schedules, cyclic dependencies) parsed
 * by parseDags always resolve, every file is a DAG, an import error or a warning of its own, the
 * good files among them load, and the caller's event loop keeps turning.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { dagCorpus, mutateDag, runDagFuzz } from "../support/dag-fuzz.js";
import { random } from "../support/write-fuzz.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-dag-fuzz-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe("DAG file fuzzing", () => {
  it("the same seed gives the same files, and they differ from the corpus", () => {
    const corpus = dagCorpus();
    assert.ok(corpus.length >= 4);
    const make = (seed: number) => {
      const r = random(seed);
      return Array.from(
        { length: 10 },
        () => mutateDag(r, corpus[Math.floor(r() * corpus.length)]!, true).text,
      );
    };
    const first = make(3);
    assert.deepEqual(first, make(3));
    assert.ok(first.filter((text) => !corpus.includes(text)).length >= 8, "most mutations change the file");
  });

  it("parses fuzzed DAG folders for a few seconds: bounded, every file accounted for, good files load, the caller never stalls", async (test) => {
    const seed = Number(process.env["HG_FUZZ_SEED"] ?? Date.now() % 100_000);
    const report = await runDagFuzz({
      root,
      seconds: 5,
      seed,
      filesPerRound: 24,
      goodPerRound: 3,
      stoppersPerRound: 2,
    });
    const context = `seed ${seed} (HG_FUZZ_SEED=${seed} repeats it): ${JSON.stringify({ ...report, problems: report.problems.slice(0, 3) }, null, 1)}`;
    test.diagnostic(
      `seed ${seed}: ${report.rounds} rounds, ${report.files} files (${report.loaded} loaded, ${report.importErrors} import errors, ${report.warnedOnly} warnings only), slowest parse ${report.slowestParseMs.toFixed(0)} ms, event loop stall max ${report.maxLoopStallMs.toFixed(0)} ms`,
    );
    assert.deepEqual(report.problems, [], context);
    assert.ok(report.loaded >= 3 && report.importErrors > 0, `both DAGs and import errors: ${context}`);
    assert.ok(report.maxLoopStallMs < 1000, context);
  });
});

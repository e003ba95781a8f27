/**
 * parseDags: the DAG processor imports DAG files in a child process. The same bag as loadDags for
 * good files (code versions and dependencies included), and an import error with the reason for
 * a file that loops, waits for ever, allocates without end or calls process.exit, while the
 * caller's event loop keeps turning.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { loadDags, parseDags } from "../../src/workflows/index.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-dag-processor-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const good = `import { dag, task } from "hourglass";
import { table } from "./_helpers.ts";
export default dag({
  id: "good",
  schedule: "@hourly",
  startDate: "2021-09-21T00:00:00Z",
  params: { table: { type: "string", default: table } },
  tasks: [task({ id: "t", run: () => table })],
});
`;

describe("parseDags", () => {
  it("good files give what loadDags gives; bad ones an import error with the reason; the caller is never blocked", async () => {
    const dir = path.join(root, "mixed");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "_helpers.ts"), `export const table = "airflow-table";\n`);
    fs.writeFileSync(path.join(dir, "good.ts"), good);
    fs.writeFileSync(path.join(dir, "hang.ts"), "while (true) {}\n");
    fs.writeFileSync(path.join(dir, "waits.ts"), "await new Promise(() => {});\nexport default 1;\n");
    fs.writeFileSync(
      path.join(dir, "hog.ts"),
      "const h: string[][] = [];\nfor (;;) h.push(new Array(100_000).fill('x'));\n",
    );
    fs.writeFileSync(path.join(dir, "quit.ts"), "\nprocess.exit(3);\n");
    fs.writeFileSync(path.join(dir, "syntax.ts"), "export default dag({ id: \n");

    let turns = 0;
    let slowestTurnMs = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      slowestTurnMs = Math.max(slowestTurnMs, now - last);
      last = now;
      turns += 1;
    }, 20);
    const bag = await parseDags(dir, { importTimeoutMs: 3000, memoryLimitMb: 64, onOutput: () => {} });
    clearInterval(ticker);

    const errors = Object.fromEntries(bag.importErrors.map((e) => [path.basename(e.file), e]));
    assert.deepEqual(Object.keys(errors).sort(), ["hang.ts", "hog.ts", "quit.ts", "syntax.ts", "waits.ts"]);
    assert.match(errors["hang.ts"]!.message, /^timed out after 3 s while importing/);
    assert.match(errors["waits.ts"]!.message, /^timed out after 3 s while importing/);
    assert.match(
      errors["hog.ts"]!.message,
      /^ran out of memory while importing \(the parse process may use 64 MB/,
    );
    assert.match(errors["quit.ts"]!.message, /^called process\.exit\(3\)/);
    assert.equal(errors["quit.ts"]!.line, 2);
    assert.match(errors["syntax.ts"]!.message, /^syntax error/);

    const good1 = bag.dags.get("good")!;
    assert.deepEqual([...bag.dags.keys()], ["good"]);
    assert.equal(good1.dag.tasks[0]!.run, undefined, "task functions stay in the parse process");
    assert.deepEqual(good1.dependencies, [path.join(dir, "_helpers.ts")]);
    assert.ok(turns > 0);
    assert.ok(slowestTurnMs < 1000, `the caller's event loop stalled for ${Math.round(slowestTurnMs)} ms`);
  });

  it("the same DAGs, code versions and dependencies as loadDags for a good folder", async () => {
    const dir = path.join(root, "good");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "_helpers.ts"), `export const table = "airflow-table";\n`);
    fs.writeFileSync(path.join(dir, "good.ts"), good);
    fs.writeFileSync(path.join(dir, "other.ts"), good.replace('id: "good"', 'id: "other"'));
    const parsed = await parseDags(dir);
    const loaded = await loadDags(dir);
    const summary = (bag: typeof parsed) =>
      [...bag.dags.values()].map((d) => ({
        id: d.dag.id,
        file: d.file,
        exportName: d.exportName,
        codeVersion: d.codeVersion,
        dependencies: d.dependencies,
        tasks: d.dag.tasks.map((t) => t.id),
        params: d.dag.params,
      }));
    assert.deepEqual(summary(parsed), summary(loaded));
    assert.deepEqual(parsed.files, loaded.files);
    assert.deepEqual(parsed.importErrors, []);
  });

  it("a missing folder is an error naming it", async () => {
    await assert.rejects(parseDags(path.join(root, "nope")), /DAG folder .*nope does not exist/);
  });
});

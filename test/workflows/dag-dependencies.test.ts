/**
 * A DAG file's local imports (helpers next to it, JSON too) are its dependencies: they make its
 * code version, and a worker reloads the DAG when one of them changes, not only when the DAG file
 * does. The worker's cache is tested directly (real files, real loader) and through a real runtime
 * with a worker process.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { resolveConfig } from "../../src/config.js";
import { silentLog } from "../../src/log/index.js";
import { startHourglass } from "../../src/runtime/index.js";
import { dagCodeVersion, loadDagFile, loadDags } from "../../src/workflows/loader.js";
import { DagFileCache } from "../../src/workflows/scheduler/task-runner.js";

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-dag-deps-"));
  tempDirs.push(dir);
  return dir;
}

function write(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

const sha12 = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 12);

/** A DAG whose one task returns what its helpers say. */
const dagText = `import { dag, task } from "hourglass";
import { greeting } from "./_lib/greeting.js";
import settings from "./_settings.json" with { type: "json" };
export default dag({
  id: "deps", schedule: null, startDate: "2024-03-01T00:00:00Z",
  tasks: [task({ id: "say", run: () => greeting() + " " + settings.punctuation })],
});
`;

/** A folder with the DAG, a helper that imports another helper, a JSON file and an unrelated file. */
function folder() {
  const dir = tempDir();
  const files = {
    dag: write(dir, "deps.ts", dagText),
    greeting: write(
      dir,
      "_lib/greeting.ts",
      'import { word } from "./word.js";\nexport const greeting = () => "hello " + word;\n',
    ),
    word: write(dir, "_lib/word.ts", 'export const word = "world";\n'),
    settings: write(dir, "_settings.json", '{ "punctuation": "!" }\n'),
    unrelated: write(dir, "_unrelated.ts", "export const nothing = 0;\n"),
  };
  return { dir, files };
}

async function say(cache: DagFileCache, file: string): Promise<{ result: unknown; codeVersion: string }> {
  const loaded = await cache.get(file, "deps");
  const task = loaded.dag.tasks[0]!;
  return { result: await task.run!({} as never), codeVersion: loaded.codeVersion };
}

describe("DAG file dependencies", () => {
  it("are the local files the DAG file imports, directly or through a helper, JSON included", async () => {
    const { files } = folder();
    const load = await loadDagFile(files.dag);
    assert.deepEqual(load.importErrors, []);
    const loaded = load.dags[0]!;
    assert.deepEqual(loaded.dependencies, [files.greeting, files.word, files.settings].sort());
    const texts = [files.greeting, files.word, files.settings].map((file) => ({
      path: file,
      text: fs.readFileSync(file),
    }));
    assert.equal(loaded.codeVersion, dagCodeVersion(files.dag, fs.readFileSync(files.dag), texts));
    assert.notEqual(loaded.codeVersion, sha12(dagText));
  });

  it("make the code version: a helper edit changes it, an unrelated file does not", async () => {
    const { dir, files } = folder();
    const first = (await loadDags(dir)).dags.get("deps")!;
    write(dir, "_unrelated.ts", "export const nothing = 1;\n");
    const second = (await loadDags(dir)).dags.get("deps")!;
    assert.equal(second.codeVersion, first.codeVersion);
    write(dir, "_lib/word.ts", 'export const word = "there";\n');
    const third = (await loadDags(dir)).dags.get("deps")!;
    assert.notEqual(third.codeVersion, first.codeVersion);
    assert.deepEqual(third.dependencies, first.dependencies);
    assert.equal(fs.readFileSync(files.dag, "utf8"), dagText);
  });

  it("a DAG file without local imports keeps the sha of its own text as its code version", async () => {
    const dir = tempDir();
    const text = `import { dag, task } from "hourglass";
export default dag({ id: "alone", schedule: null, startDate: "2024-03-01T00:00:00Z",
  tasks: [task({ id: "t", run: () => 1 })] });
`;
    const file = write(dir, "alone.ts", text);
    const loaded = (await loadDagFile(file)).dags[0]!;
    assert.deepEqual(loaded.dependencies, []);
    assert.equal(loaded.codeVersion, sha12(text));
  });
});

describe("a worker's cache of DAG files", () => {
  it("reloads the DAG when a helper it imports changes, and only then", async () => {
    const { dir, files } = folder();
    const cache = new DagFileCache();
    const first = await say(cache, files.dag);
    assert.equal(first.result, "hello world !");
    const again = await cache.get(files.dag, "deps");
    assert.equal(again, await cache.get(files.dag, "deps"), "unchanged files: the same loaded DAG");
    assert.equal((await say(cache, files.dag)).codeVersion, first.codeVersion);

    // A helper of a helper.
    write(dir, "_lib/word.ts", 'export const word = "again";\n');
    const second = await say(cache, files.dag);
    assert.equal(second.result, "hello again !");
    assert.notEqual(second.codeVersion, first.codeVersion);

    // JSON.
    write(dir, "_settings.json", '{ "punctuation": "?" }\n');
    assert.equal((await say(cache, files.dag)).result, "hello again ?");

    // Back to an earlier version of every file: that version's code.
    write(dir, "_lib/word.ts", 'export const word = "world";\n');
    write(dir, "_settings.json", '{ "punctuation": "!" }\n');
    const back = await say(cache, files.dag);
    assert.equal(back.result, "hello world !");
    assert.equal(back.codeVersion, first.codeVersion);
  });

  it("a helper that disappears makes the DAG fail to load, with the error", async () => {
    const { files } = folder();
    const cache = new DagFileCache();
    assert.equal((await say(cache, files.dag)).result, "hello world !");
    fs.rmSync(files.word);
    await assert.rejects(cache.get(files.dag, "deps"), /does not load/);
    write(path.dirname(files.word), "word.ts", 'export const word = "back";\n');
    assert.equal((await say(cache, files.dag)).result, "hello back !");
  });
});

describe("a worker process", () => {
  it("runs a task with the helper as it is now, after the helper alone was edited", async () => {
    const root = tempDir();
    const { dir: dagsDir } = folder();
    const config = resolveConfig({
      flags: { stateDir: path.join(root, "state"), dagsDir, port: 0, workers: 1 },
      env: {},
      cwd: root,
    });
    const runtime = await startHourglass(config, { tickMs: 100, log: silentLog });
    try {
      await runtime.workflows.setPaused("deps", false);
      const runOnce = async (logicalDate: string) => {
        const finished = runtime.events.waitFor("run:finished", (e) => e.run.dagId === "deps", 30_000);
        const run = await runtime.workflows.trigger("deps", { logicalDate });
        assert.equal((await finished).state, "success");
        return (await runtime.workflows.taskLog("deps", run.runId, "say")).text;
      };
      assert.match(await runOnce("2024-03-01T01:00:00Z"), /Returned value was: "hello world !"/);
      const reloaded = runtime.events.waitFor("dags:loaded", () => true, 30_000);
      write(dagsDir, "_lib/word.ts", 'export const word = "edited";\n');
      await reloaded;
      assert.match(await runOnce("2024-03-01T02:00:00Z"), /Returned value was: "hello edited !"/);
    } finally {
      await runtime.stop();
    }
  });
});

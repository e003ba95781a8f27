/**
 * DAG files that would wedge a server that imported them itself: one loops for ever at import, one
 * allocates without end, one calls process.exit(3). The real `hourglass up` parses them in its
 * DAG processor's child process (small limits here, through the environment, so the test is
 * quick): it starts, /health answers within a second throughout, each bad file is an import error
 * with its reason (REST and `hourglass dags errors`), the good DAG runs, and a restart does the
 * same. Then the good file is edited to loop at import: its DAG keeps its last good definition,
 * and the worker that imports it for a task is killed at the limit, the task failing with the reason.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { BIN, runCli } from "../support/cli.js";

const importTimeoutMs = 3000;
const env = {
  HOURGLASS_DAG_IMPORT_TIMEOUT_MS: String(importTimeoutMs),
  HOURGLASS_DAG_PARSE_MEMORY_MB: "64",
};

const goodDag = `import { dag, task } from "hourglass";
export default dag({
  id: "good",
  schedule: null,
  tasks: [task({ id: "hello", run: (ctx) => ctx.log("hello from the good DAG") })],
});
`;

/** Hourly in a zone with clock changes: its backfills are counted from fire times, not arithmetic. */
const hourlyDag = `import { dag, task } from "hourglass";
export default dag({
  id: "hourly",
  schedule: "@hourly",
  timezone: "Europe/London",
  startDate: "1990-01-01T00:00:00Z",
  tasks: [task({ id: "noop", run: () => {} })],
});
`;

const badFiles: Record<string, { text: string; reason: RegExp }> = {
  "hang.ts": { text: "while (true) {}\n", reason: /^timed out after 3 s while importing/ },
  "hog.ts": {
    text: "const hoard: number[][] = [];\nfor (;;) hoard.push(new Array(100_000).fill(1));\n",
    reason: /^ran out of memory while importing \(the parse process may use 64 MB/,
  },
  "quit.ts": { text: "process.exit(3);\n", reason: /^called process\.exit\(3\)/ },
};

interface Server {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  /** Stops the /health watch; resolves with the slowest answer (ms) seen since the server listened. */
  slowestHealthMs(): Promise<number>;
  stop(): Promise<void>;
}

/** `hourglass up`, with /health asked every 100 ms from the moment the server listens. */
async function up(dagsDir: string, stateDir: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    [BIN, "up", "--port", "0", "--workers", "1", "--dags", dagsDir, "--state-dir", stateDir],
    { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stdout?.resume();
  const upLine = new Promise<void>((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes("hourglass is up")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`hourglass up exited with ${code}: ${stderr}`)));
  });
  upLine.catch(() => undefined);
  const serverFile = path.join(stateDir, "server.json");
  // server.json is written once the HTTP server listens, before the DAG files are loaded.
  while (!fs.existsSync(serverFile)) {
    if (child.exitCode !== null) throw new Error(`hourglass up exited: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const { url } = JSON.parse(fs.readFileSync(serverFile, "utf8")) as { url: string };
  let watching = true;
  let slowest = 0;
  const watch = (async () => {
    while (watching) {
      const started = performance.now();
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(response.status, 200);
      await response.body?.cancel();
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  // Its failure is reported by slowestHealthMs(); stop() ends the watch on purpose.
  watch.catch(() => undefined);
  await upLine;
  return {
    url,
    child,
    stderr: () => stderr,
    async slowestHealthMs() {
      watching = false;
      await watch;
      return slowest;
    },
    async stop() {
      watching = false;
      await watch.catch(() => undefined);
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      await exited;
    },
  };
}

async function api<T>(server: Server, method: string, route: string, body?: unknown): Promise<T> {
  const response = await fetch(`${server.url}/api/v1${route}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as T;
  assert.ok(response.ok, `${method} ${route}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

interface RunView {
  runId: string;
  state: string;
}
interface TaskView {
  taskId: string;
  state: string;
  error?: string | null;
}

async function runGood(server: Server): Promise<{ run: RunView; tasks: TaskView[] }> {
  await api(server, "POST", "/dags/good/unpause");
  const created = await api<RunView>(server, "POST", "/dags/good/runs", {});
  for (;;) {
    const run = await api<RunView>(server, "GET", `/dags/good/runs/${encodeURIComponent(created.runId)}`);
    if (run.state === "success" || run.state === "failed") {
      const { taskInstances: tasks } = await api<{ taskInstances: TaskView[] }>(
        server,
        "GET",
        `/dags/good/runs/${encodeURIComponent(created.runId)}/tasks`,
      );
      return { run, tasks };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function checkImportErrors(server: Server, dagsDir: string): Promise<void> {
  const { importErrors } = await api<{ importErrors: Array<{ file: string; message: string }> }>(
    server,
    "GET",
    "/import-errors",
  );
  assert.deepEqual(importErrors.map((e) => path.basename(e.file)).sort(), Object.keys(badFiles).sort());
  for (const error of importErrors) {
    assert.match(error.message, badFiles[path.basename(error.file)]!.reason, error.file);
  }
  const cli = await runCli(["dags", "errors", "--state-dir", path.dirname(serverStateFile(server))], { env });
  assert.equal(cli.code, 0, cli.stderr);
  for (const name of Object.keys(badFiles)) {
    assert.ok(cli.stdout.includes(path.join(dagsDir, name)), `${name} in: ${cli.stdout}`);
  }
  assert.match(cli.stdout, /hang\.ts: timed out after 3 s while importing/);
  assert.match(cli.stdout, /hog\.ts: ran out of memory while importing/);
  assert.match(cli.stdout, /quit\.ts:1:\d+: called process\.exit\(3\)/);
}

/**
 * A 30-year backfill is refused at once, naming the limit and how to narrow it; a year of hourly
 * intervals (8,760) is planned in slices: the /health watch of the caller sees no stall.
 */
async function bigBackfills(server: Server): Promise<void> {
  const started = performance.now();
  const refused = await fetch(`${server.url}/api/v1/backfills`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ dagId: "hourly", from: "1995-01-01", to: "2025-01-01", dryRun: true }),
  });
  const refusal = (await refused.json()) as { message?: string; error?: { message?: string } };
  assert.equal(refused.status, 400);
  assert.match(
    JSON.stringify(refusal),
    /holds about 262,99\d intervals of \\"@hourly\\", over the limit of 100,000 intervals per backfill: narrow it \(from 1995-01-01T00:00:00.000Z, end it at 2006-05-\d\dT\d\d:00:00.000Z at the latest\) or split it/,
  );
  assert.ok(
    performance.now() - started < 3000,
    `refused after ${Math.round(performance.now() - started)} ms`,
  );
  const planned = await api<{ plan: { intervals: unknown[] } }>(server, "POST", "/backfills", {
    dagId: "hourly",
    from: "2021-01-01",
    to: "2021-12-31T23:00",
    dryRun: true,
  });
  assert.equal(planned.plan.intervals.length, 8760);
}

const stateFiles = new WeakMap<Server, string>();
const serverStateFile = (server: Server) => stateFiles.get(server)!;

describe("DAG files that loop, exhaust memory or exit at import do not hang the server", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-bad-dags-"));
  const dagsDir = path.join(root, "dags");
  const stateDir = path.join(root, "state");
  let server: Server | null = null;

  before(() => {
    fs.mkdirSync(dagsDir);
    fs.writeFileSync(path.join(dagsDir, "good.ts"), goodDag);
    fs.writeFileSync(path.join(dagsDir, "hourly.ts"), hourlyDag);
    for (const [name, { text }] of Object.entries(badFiles)) fs.writeFileSync(path.join(dagsDir, name), text);
  });
  afterEach(async () => {
    await server?.stop();
    server = null;
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  const start = async () => {
    server = await up(dagsDir, stateDir);
    stateFiles.set(server, path.join(stateDir, "server.json"));
    return server;
  };

  for (const round of ["first start", "restart"]) {
    it(`${round}: up, /health within 1 s throughout, each bad file an import error with its reason, the good DAG runs`, async () => {
      const s = await start();
      await checkImportErrors(s, dagsDir);
      const { run, tasks } = await runGood(s);
      assert.equal(run.state, "success", JSON.stringify(tasks));
      if (round === "restart") await bigBackfills(s);
      const slowest = await s.slowestHealthMs();
      assert.ok(slowest < 1000, `the slowest /health answer took ${Math.round(slowest)} ms`);
    });
  }

  it("a DAG file edited to loop at import: the DAG keeps its last good definition; its task fails at the import limit and the worker is replaced", async () => {
    const s = await start();
    fs.writeFileSync(path.join(dagsDir, "good.ts"), `while (Date.now() > 0) {}\n${goodDag}`);
    // The reload records the new import error of good.ts.
    for (;;) {
      const { importErrors } = await api<{ importErrors: Array<{ file: string; message: string }> }>(
        s,
        "GET",
        "/import-errors",
      );
      if (importErrors.some((e) => e.file.endsWith("good.ts"))) {
        assert.match(
          importErrors.find((e) => e.file.endsWith("good.ts"))!.message,
          /^timed out after 3 s while importing/,
        );
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { run, tasks } = await runGood(s);
    assert.equal(run.state, "failed");
    assert.match(tasks[0]?.error ?? "", /timed out after 3 s while importing the DAG file .*good\.ts/);
    // The worker that replaced the killed one runs the DAG once its file is fixed.
    fs.writeFileSync(path.join(dagsDir, "good.ts"), goodDag);
    for (;;) {
      const { importErrors } = await api<{ importErrors: Array<{ file: string }> }>(
        s,
        "GET",
        "/import-errors",
      );
      if (!importErrors.some((e) => e.file.endsWith("good.ts"))) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const again = await runGood(s);
    assert.equal(again.run.state, "success", JSON.stringify(again.tasks));
    const slowest = await s.slowestHealthMs();
    assert.ok(slowest < 1000, `the slowest /health answer took ${Math.round(slowest)} ms`);
  });
});

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { HourglassError, isHourglassError } from "../../src/errors.js";
import { command, runOperator, shellQuote, type TaskServices } from "../../src/operators/index.js";
import { tempDir } from "../support/store.js";
import { at, contextFor } from "./helpers.js";

// The command operator needs no store or lake.
const noServices = {} as TaskServices;

function newContext(
  options: { signal?: AbortSignal; params?: Record<string, unknown>; onLine?: (line: string) => void } = {},
) {
  const lines: string[] = [];
  const { ctx } = contextFor(at("13:00:00"), at("14:00:00"), {
    params: options.params ?? {},
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const logged = {
    ...ctx,
    log: (line: string) => {
      lines.push(line);
      options.onLine?.(line);
    },
  };
  return { ctx: logged, lines };
}

async function rejects(promise: Promise<unknown>, code: string, message: RegExp): Promise<HourglassError> {
  let caught: HourglassError | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isHourglassError(error), `a HourglassError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    caught = error;
    return true;
  });
  return caught!;
}

/** Resolves once `predicate` holds, or fails after `deadlineMs` (generous: a busy machine is slow). */
async function eventually(predicate: () => boolean, what: string, deadlineMs = 15_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!predicate()) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Running, not a zombie: a killed process stays a zombie until its new parent (PID 1) reaps it, which may take a while. */
const isAlive = (pid: number): boolean => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
};

describe("the command operator", () => {
  let dir: string;
  before(() => {
    dir = tempDir("hg-command-");
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("succeeds on exit code 0; stdout and stderr lines go to the task log", async () => {
    const { ctx, lines } = newContext();
    const result = await runOperator(
      command({ command: "echo hello; echo oops >&2; echo done" }),
      ctx,
      noServices,
    );
    assert.deepEqual(result, { exitCode: 0, lastLine: "done" });
    assert.ok(lines.includes("hello"));
    assert.ok(lines.includes("[stderr] oops"));
    assert.equal(lines[0], "Running command: echo hello; echo oops >&2; echo done");
  });

  it("fails with the exit code in the message", async () => {
    const { ctx, lines } = newContext();
    const error = await rejects(
      runOperator(command({ command: "echo partial; exit 3" }), ctx, noServices),
      "Internal",
      /^the command failed with exit code 3: echo partial; exit 3$/,
    );
    assert.equal(error.context["exitCode"], 3);
    assert.ok(lines.includes("partial"));
  });

  it("renders templates; each value is one shell word, so conf cannot inject commands", async () => {
    const { ctx, lines } = newContext({ params: { note: "a b; echo injected $(id)" } });
    await runOperator(
      command({ command: "printf '<%s>\\n' {{ folder }} {{ ds }} {{ params.note }}" }),
      ctx,
      noServices,
    );
    assert.deepEqual(
      lines.filter((l) => l.startsWith("<")),
      ["<2021-09-22-13>", "<2021-09-22>", "<a b; echo injected $(id)>"],
    );
    assert.equal(shellQuote("it's"), `'it'"'"'s'`);
    assert.equal(shellQuote(""), "''");
    assert.equal(shellQuote("2021-09-22T13:00:00+00:00"), "2021-09-22T13:00:00+00:00");
  });

  it("passes env (templated) and the run's identity; runs in cwd", async () => {
    const { ctx, lines } = newContext();
    fs.mkdirSync(path.join(dir, "2021-09-22-13"));
    await runOperator(
      command({
        command: 'echo "$GREETING|$HOURGLASS_RUN_ID|$HOURGLASS_DATA_INTERVAL_END"; pwd',
        env: { GREETING: "hi {{ ds }}" },
        cwd: `${dir}/{{ folder }}`,
      }),
      ctx,
      noServices,
    );
    assert.ok(lines.includes("hi 2021-09-22|scheduled__2021-09-22T13:00:00+00:00|2021-09-22T14:00:00+00:00"));
    assert.ok(lines.includes(fs.realpathSync(path.join(dir, "2021-09-22-13"))));
  });

  it("a timeout stops the command and fails the task with a Timeout", async () => {
    const { ctx } = newContext();
    const started = Date.now();
    const error = await rejects(
      runOperator(command({ command: "sleep 30", timeoutMs: 200 }), ctx, noServices),
      "Timeout",
      /ran longer than its timeout of 200 ms/,
    );
    assert.equal(error.retryable, true);
    // Stopped, not run to its end (sleep 30); a busy machine may take seconds to spawn and reap.
    assert.ok(Date.now() - started < 20_000);
  });

  it("abort kills the whole process group, SIGKILL for processes that ignore SIGTERM", async () => {
    const controller = new AbortController();
    let childPid: number | null = null;
    const { ctx } = newContext({
      signal: controller.signal,
      onLine: (line) => {
        const match = /^pid:(\d+)$/.exec(line);
        if (match) childPid = Number(match[1]);
      },
    });
    const started = Date.now();
    const run = runOperator(
      // The shell and its background child both ignore SIGTERM.
      command({ command: "trap '' TERM; sleep 30 & echo pid:$!; wait", killGraceMs: 300 }),
      ctx,
      noServices,
    );
    await eventually(() => childPid !== null, "the child's pid");
    assert.ok(isAlive(childPid!));
    controller.abort("run cancelled by the user");
    await rejects(
      run,
      "Conflict",
      /^the command was stopped: the task was cancelled \(run cancelled by the user\)$/,
    );
    // Stopped, not run to its end (sleep 30); a busy machine may take seconds to spawn and reap.
    assert.ok(Date.now() - started < 20_000);
    await eventually(() => !isAlive(childPid!), "the background child to be gone");
  });

  it("a stop sends SIGTERM first, so a command can clean up; the task still fails", async () => {
    const controller = new AbortController();
    let started = false;
    const { ctx, lines } = newContext({
      signal: controller.signal,
      onLine: (line) => {
        if (line === "ready") started = true;
      },
    });
    const run = runOperator(
      command({ command: "trap 'echo cleaning up; exit 0' TERM; echo ready; sleep 30 & wait" }),
      ctx,
      noServices,
    );
    await eventually(() => started, "the command to start");
    controller.abort();
    await rejects(run, "Conflict", /was cancelled/);
    assert.ok(lines.includes("cleaning up"));
  });

  it("an abort whose reason is a HourglassError fails with that error; an aborted task does not start", async () => {
    const controller = new AbortController();
    const reason = new HourglassError("Timeout", "the task exceeded its executionTimeoutMs");
    const { ctx } = newContext({ signal: controller.signal });
    const run = runOperator(command({ command: "sleep 30" }), ctx, noServices);
    setImmediate(() => controller.abort(reason));
    await assert.rejects(run, (error) => error === reason);

    const marker = path.join(dir, "should-not-exist");
    const { ctx: aborted } = newContext({ signal: AbortSignal.abort("stop") });
    await rejects(
      runOperator(command({ command: `touch ${marker}` }), aborted, noServices),
      "Conflict",
      /cancelled \(stop\)/,
    );
    assert.equal(fs.existsSync(marker), false);
  });

  it("refuses bad options at definition time and bad templates or cwd at run time", async () => {
    assert.throws(() => command({ command: " " }), /invalid command operator: command: the command is empty/);
    assert.throws(() => command({ command: "true", timeoutMs: 0 }), /timeoutMs: Too small/);
    assert.throws(
      () => command({ command: "true", env: { "BAD-NAME": "x" } }),
      /env\.BAD-NAME: an environment variable name must match/,
    );
    assert.throws(() => command({ command: "true", shell: "bash" } as never), /Unrecognized key: "shell"/);
    const { ctx } = newContext();
    await rejects(
      runOperator(command({ command: "echo {{ nope }}" }), ctx, noServices),
      "ValidationError",
      /unknown placeholder \{\{ nope \}\}/,
    );
    await rejects(
      runOperator(command({ command: "echo {{ params.missing }}" }), ctx, noServices),
      "ValidationError",
      /the DAG has no param "missing"/,
    );
    await rejects(
      runOperator(command({ command: "true", cwd: path.join(dir, "missing") }), ctx, noServices),
      "ValidationError",
      /cwd .*missing does not exist/,
    );
    await rejects(
      runOperator({ kind: "command", command: "true" }, ctx, noServices),
      "ValidationError",
      /invalid command operator: env: Invalid input/,
    );
  });
});

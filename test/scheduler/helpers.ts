/**
 * A scheduler on a real metadata DB (SQLite file or a fresh PostgreSQL schema), real DAG files in
 * a temp folder, and a fake clock. `work()` plays the worker's part through the metadata DB's own
 * calls (claim, finishTry), so scheduling decisions are tested without processes or waiting.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe } from "node:test";
import type { ErrorCode } from "../../src/errors.js";
import { isHourglassError } from "../../src/errors.js";
import { type MetadataStore, openMetadata, type TaskInstance } from "../../src/workflows/metadata/index.js";
import { Scheduler, type SchedulerOptions, WorkflowService } from "../../src/workflows/scheduler/index.js";
import { postgresTargets, sqliteTargets, type Target, type TargetFactory } from "../metadata/helpers.js";

export const hourMs = 3_600_000;

export interface FakeClock {
  now: number;
  (): number;
  set(ms: number | string): void;
  advance(ms: number): void;
}

export function fakeClock(start: number | string): FakeClock {
  const clock = (() => clock.now) as FakeClock;
  clock.now = typeof start === "string" ? Date.parse(start) : start;
  clock.set = (ms) => {
    clock.now = typeof ms === "string" ? Date.parse(ms) : ms;
  };
  clock.advance = (ms) => {
    clock.now += ms;
  };
  return clock;
}

export interface Harness {
  kind: "sqlite" | "postgres";
  metadata: MetadataStore;
  scheduler: Scheduler;
  service: WorkflowService;
  clock: FakeClock;
  dagsDir: string;
  logsDir: string;
  /** Writes a DAG file and reloads the folder. */
  writeDag(name: string, source: string): Promise<void>;
  removeDag(name: string): Promise<void>;
  /** Unpauses a DAG. */
  unpause(dagId: string): Promise<void>;
  /**
   * Ticks, runs every queued task instance as a worker would (`outcome` decides each), and
   * repeats until nothing moves. Returns the tries run, in order.
   */
  work(outcome?: (ti: TaskInstance) => "success" | { error: string }): Promise<TaskInstance[]>;
  /** Runs of a DAG, oldest first. */
  runs(dagId: string): Promise<Awaited<ReturnType<MetadataStore["listRuns"]>>>;
  close(): Promise<void>;
}

const simulatedWorker = "test-worker";

export async function openHarness(
  factory: TargetFactory,
  options: { start: number | string; dags?: Record<string, string>; scheduler?: Partial<SchedulerOptions> },
): Promise<{ harness: Harness; target: Target }> {
  const target = await factory.create();
  const metadata = await openMetadata(target.options);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-scheduler-"));
  const dagsDir = path.join(root, "dags");
  const logsDir = path.join(root, "logs");
  fs.mkdirSync(dagsDir);
  for (const [name, source] of Object.entries(options.dags ?? {}))
    fs.writeFileSync(path.join(dagsDir, name), source);
  const clock = fakeClock(options.start);
  const scheduler = new Scheduler({
    metadata,
    dagsDirs: [dagsDir],
    clockMs: clock,
    tickMs: 0,
    watch: false,
    ...options.scheduler,
  });
  await scheduler.bag.start();
  await metadata.registerWorker({ workerId: simulatedWorker, pid: process.pid, host: "test" }, clock.now);
  const service = new WorkflowService({ scheduler, logsDir });
  const harness: Harness = {
    kind: factory.kind,
    metadata,
    scheduler,
    service,
    clock,
    dagsDir,
    logsDir,
    async writeDag(name, source) {
      fs.writeFileSync(path.join(dagsDir, name), source);
      await scheduler.bag.reload();
    },
    async removeDag(name) {
      fs.rmSync(path.join(dagsDir, name));
      await scheduler.bag.reload();
    },
    async unpause(dagId) {
      await metadata.setPaused(dagId, false, clock.now);
    },
    async work(outcome = () => "success") {
      const ran: TaskInstance[] = [];
      for (let round = 0; round < 1000; round += 1) {
        // Every running run is looked at: tests check each decision, not the loop's economy.
        await scheduler.tick({ fullPass: true });
        const claimed = await metadata.claimTaskInstances(simulatedWorker, 100, clock.now);
        if (claimed.length === 0) {
          await scheduler.tick({ fullPass: true });
          if ((await metadata.countActive()).queuedTasks === 0) return ran;
          continue;
        }
        for (const ti of claimed) {
          ran.push(ti);
          const result = outcome(ti);
          await metadata.finishTry(
            { dagRunId: ti.dagRunId, taskId: ti.taskId, tryNumber: ti.tryNumber, workerId: simulatedWorker },
            result === "success" ? { state: "success" } : { state: "failed", error: result.error },
            clock.now,
          );
          // What the worker pool's task events do: tell the scheduler which run has news.
          scheduler.markRunChanged(ti.dagRunId);
        }
      }
      throw new Error("the scheduler did not settle within 1000 rounds");
    },
    runs(dagId) {
      return metadata.listRuns({ dagId });
    },
    async close() {
      await scheduler.stop();
      await metadata.close();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
  return { harness, target };
}

/** The same block against SQLite and PostgreSQL, each on a fresh database and DAG folder. */
export function onEachDatabase(
  title: string,
  options: { start: number | string; dags?: Record<string, string>; scheduler?: Partial<SchedulerOptions> },
  body: (harness: () => Harness) => void,
  factories: TargetFactory[] = [sqliteTargets, postgresTargets],
): void {
  for (const factory of factories) {
    describe(`${title} [${factory.kind}]`, { skip: factory.skip }, () => {
      let opened: { harness: Harness; target: Target } | undefined;
      before(async () => {
        opened = await openHarness(factory, options);
      });
      after(async () => {
        await opened?.harness.close();
        await opened?.target.destroy();
      });
      body(() => {
        if (opened === undefined) throw new Error("the harness did not open (see the before hook)");
        return opened.harness;
      });
    });
  }
}

/** Asserts that `promise` rejects with a HourglassError of `code` whose message matches. */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: ErrorCode,
  message: RegExp,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isHourglassError(error), `expected a HourglassError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  });
}

/** A DAG file's text. `tasks` is TypeScript source for the tasks array. */
export function dagSource(
  fields: Record<string, unknown>,
  tasks = `[task({ id: "only", run: () => {} })]`,
): string {
  const entries = Object.entries(fields)
    .map(([key, value]) => `  ${key}: ${JSON.stringify(value)},`)
    .join("\n");
  return `import { dag, task } from "hourglass";\nexport default dag({\n${entries}\n  tasks: ${tasks},\n});\n`;
}

export const iso = (ms: number) => new Date(ms).toISOString();

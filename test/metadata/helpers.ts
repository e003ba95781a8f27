/**
 * Where the metadata suite runs: a temp SQLite file, or a fresh PostgreSQL schema (dropped after).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe } from "node:test";
import { fileURLToPath } from "node:url";
import type { ErrorCode } from "../../src/errors.js";
import { isHourglassError } from "../../src/errors.js";
import type { MetadataDatabase } from "../../src/workflows/metadata/database.js";
import {
  type DagUpsert,
  type MetadataStore,
  type OpenMetadataOptions,
  openMetadata,
} from "../../src/workflows/metadata/index.js";
import { openPostgresDatabase } from "../../src/workflows/metadata/postgres-database.js";
import { openSqliteDatabase } from "../../src/workflows/metadata/sqlite-database.js";
import { postgresSkipReason, postgresUrl } from "../support/postgres.js";

export { postgresUrl };

export interface Target {
  /** Options for a fresh, empty database (its own file or schema). */
  options: OpenMetadataOptions;
  /** The same database without migrations or a store on top, for inspecting it. */
  openRaw(): MetadataDatabase;
  destroy(): Promise<void>;
}

export interface TargetFactory {
  kind: "sqlite" | "postgres";
  /** Why tests on this kind are skipped here (PostgreSQL unreachable), as `{ skip }` takes it. */
  skip: string | undefined;
  create(): Promise<Target>;
}

export const sqliteTargets: TargetFactory = {
  kind: "sqlite",
  skip: undefined,
  async create() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-metadata-"));
    const filePath = path.join(dir, "metadata.db");
    return {
      options: { url: `sqlite:${filePath}` },
      openRaw: () => openSqliteDatabase(filePath),
      async destroy() {
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** A fresh schema on the test server (test/support/postgres.ts: HOURGLASS_TEST_PG_URL). */
export const postgresTargets: TargetFactory = {
  kind: "postgres",
  skip: postgresSkipReason,
  async create() {
    const schema = `hg_test_${randomBytes(6).toString("hex")}`;
    return {
      options: { url: postgresUrl, schema },
      openRaw: () => openPostgresDatabase(postgresUrl, schema),
      async destroy() {
        const database = openPostgresDatabase(postgresUrl, "public");
        try {
          await database.write(async (trx) => {
            await trx.schema.dropSchema(schema).ifExists().cascade().execute();
          });
        } finally {
          await database.close();
        }
      },
    };
  },
};

export const hourMs = 3_600_000;
/** A fixed reference time (2024-03-01T00:00:00Z): tests never read the wall clock. */
export const t0 = Date.UTC(2024, 2, 1);

export function dagDefinition(dagId: string, overrides: Partial<DagUpsert> = {}): DagUpsert {
  return {
    dagId,
    filePath: `/dags/${dagId}.ts`,
    codeVersion: "v1",
    schedule: "@hourly",
    timezone: "UTC",
    startDate: t0,
    endDate: null,
    catchup: true,
    maxActiveRuns: 16,
    maxActiveTasks: 16,
    ...overrides,
  };
}

export function hourInterval(index: number) {
  return { start: t0 + index * hourMs, end: t0 + (index + 1) * hourMs };
}

/** Asserts that `promise` rejects with a HourglassError of `code` whose message matches `message`. */
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

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");

export interface ChildResult {
  lines: string[];
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningFixture {
  /** Writes a line to the child's stdin. */
  send(line: string): void;
  kill(): void;
  /** Resolves with the first line the child printed that `matches` (rejects if it exits first). */
  line(matches: (line: string) => boolean): Promise<string>;
  /** Resolves once the child printed a line equal to `line`. */
  printed(line: string): Promise<void>;
  done: Promise<ChildResult>;
}

const childDeadlineMs = 60_000;

/** Starts a fixture script with `args` as JSON arguments; it ends by itself or by kill(). */
export function startFixture(script: string, args: unknown[]): RunningFixture {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(fixtures, script), ...args.map((arg) => JSON.stringify(arg))],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  const lines: string[] = [];
  const waiters: { matches: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  let pending = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout.on("data", (chunk: Buffer) => {
    pending += chunk.toString();
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      lines.push(line);
      for (const waiter of waiters.filter((candidate) => candidate.matches(line))) waiter.resolve(line);
      newline = pending.indexOf("\n");
    }
  });
  const done = new Promise<ChildResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`fixture ${script} did not finish within ${childDeadlineMs} ms: ${stderr}`));
    }, childDeadlineMs);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ lines, stderr, code, signal });
    });
  });
  return {
    send(line) {
      child.stdin.write(`${line}\n`);
    },
    kill() {
      child.kill("SIGKILL");
    },
    line(matches) {
      const seen = lines.find(matches);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        waiters.push({ matches, resolve });
        done.then(
          (result) =>
            reject(new Error(`fixture ${script} exited before printing the awaited line: ${result.stderr}`)),
          reject,
        );
      });
    },
    async printed(expected) {
      await this.line((line) => line === expected);
    },
    done,
  };
}

export interface SuiteContext {
  kind: "sqlite" | "postgres";
  store: MetadataStore;
  target: Target;
  /** Opens another store on the same database (closed after the block). */
  openAnother(): Promise<MetadataStore>;
}

/**
 * Defines the same block against SQLite and PostgreSQL, each on a fresh database. PostgreSQL
 * unreachable skips its block, saying why (test/support/postgres.ts).
 */
export function onEachDatabase(
  title: string,
  body: (context: () => SuiteContext) => void,
  factories: TargetFactory[] = [sqliteTargets, postgresTargets],
): void {
  for (const factory of factories) {
    describe(`${title} [${factory.kind}]`, { skip: factory.skip }, () => {
      let context: SuiteContext | undefined;
      const others: MetadataStore[] = [];
      before(async () => {
        const target = await factory.create();
        const store = await openMetadata(target.options);
        context = {
          kind: factory.kind,
          store,
          target,
          async openAnother() {
            const other = await openMetadata(target.options);
            others.push(other);
            return other;
          },
        };
      });
      after(async () => {
        for (const other of others) await other.close();
        await context?.store.close();
        await context?.target.destroy();
      });
      body(() => {
        if (context === undefined) throw new Error("the database did not open (see the before hook)");
        return context;
      });
    });
  }
}

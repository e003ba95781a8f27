/**
 * Timestream scheduled queries on the workflows scheduler. Each definition is kept in
 * `<stateDir>/scheduled-queries/definitions.json` (written whole, through a rename, so a crash
 * leaves the old file or the new one) and becomes a generated DAG file in
 * `<stateDir>/scheduled-queries/dags/`, a folder the scheduler loads besides the user's: its DAG
 * (`scheduled-query.NAME`) is listed with the others and its runs are in `runs list`. The DAG's
 * one task asks the server to run the query for its run's time (dag-file.ts); the server does
 * the work here (execute): the query with `@scheduled_runtime` bound, the rows mapped into
 * records and written through the store's write path, an error report in the lake when it fails,
 * and the run summaries DescribeScheduledQuery returns.
 */
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { conflict, notFound, toHourglassError, validationError } from "../../errors.js";
import type { Lake } from "../../lake/index.js";
import type { ColumnInfo, Row, StoreService, WriteRecord } from "../../store/index.js";
import { idPattern } from "../field-checks.js";
import { fireAfter, fireAtOrBefore, parseSchedule } from "../schedule.js";
import { generatedDagFile } from "./dag-file.js";
import { checkMappings, recordsOfRow } from "./mappings.js";
import { cronOfScheduleExpression } from "./schedule-expression.js";
import type { RunSummary, ScheduledQueryDefinition, ScheduledQueryState } from "./types.js";

export type CreateScheduledQueryInput = Omit<
  ScheduledQueryDefinition,
  "Arn" | "CreationTime" | "State" | "cron" | "dagId" | "LastRunSummary" | "RecentlyFailedRuns" | "Tags"
> & { Tags?: { Key: string; Value: string }[] };

/** What the service needs from the scheduler that runs the generated DAGs. */
export interface ScheduledQueryHost {
  /** Loads the generated DAG folder now; resolves once the scheduler knows the change. */
  reloadDags(): Promise<void>;
  /** DISABLED pauses the DAG, ENABLED unpauses it. */
  setPaused(dagId: string, paused: boolean): Promise<void>;
}

export interface ScheduledQueryServiceOptions {
  stateDir: string;
  store: StoreService;
  lake: Lake;
  clockMs?: () => number;
  /** Region and account in the ARNs (Timestream's form). */
  region?: string;
  accountId?: string;
}

export const namePattern = /^[a-zA-Z0-9|!\-_*'()]([a-zA-Z0-9]|[!\-_*'()/.])+$/;
const maxRecentlyFailedRuns = 5;
/** Timestream writes at most 100 records a call: the same batches go through the write path. */
const writeBatch = 100;

export function scheduledQueryDagsDir(stateDir: string): string {
  return path.join(stateDir, "scheduled-queries", "dags");
}

/** The generated DAG's id: `scheduled-query.NAME`, with a hash when NAME has characters DAG ids refuse. */
export function dagIdOf(name: string): string {
  const plain = `scheduled-query.${name}`;
  if (idPattern.test(plain)) return plain;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 8);
  return `scheduled-query.${name.replace(/[^A-Za-z0-9_.-]/g, "_")}-${hash}`;
}

/** `@scheduled_runtime` (any case) as the run's time, a TIMESTAMP. */
export function bindScheduledRuntime(query: string, invocationMs: number): string {
  return query.replace(/@scheduled_runtime\b/gi, `from_milliseconds(${Math.trunc(invocationMs)})`);
}

export class ScheduledQueryService {
  readonly #options: ScheduledQueryServiceOptions;
  readonly #file: string;
  readonly #dagsDir: string;
  readonly #byName = new Map<string, ScheduledQueryDefinition>();
  #host: ScheduledQueryHost | null = null;
  #saving: Promise<void> = Promise.resolve();
  /** ExecuteScheduledQuery answers by ClientToken, so an SDK retry does not run it twice. */
  readonly #executions = new Map<string, { expiresMs: number; done: Promise<void> }>();

  constructor(options: ScheduledQueryServiceOptions) {
    this.#options = options;
    this.#file = path.join(options.stateDir, "scheduled-queries", "definitions.json");
    this.#dagsDir = scheduledQueryDagsDir(options.stateDir);
    fs.mkdirSync(this.#dagsDir, { recursive: true });
    if (fs.existsSync(this.#file)) {
      const saved = JSON.parse(fs.readFileSync(this.#file, "utf8")) as ScheduledQueryDefinition[];
      for (const definition of saved) this.#byName.set(definition.Name, definition);
    }
    // The DAG files follow the definitions (a file lost or left behind is put right at start).
    for (const file of fs.readdirSync(this.#dagsDir)) {
      if (![...this.#byName.values()].some((d) => `${d.dagId}.ts` === file))
        fs.rmSync(path.join(this.#dagsDir, file));
    }
    for (const definition of this.#byName.values()) this.#writeDagFile(definition);
  }

  get dagsDir(): string {
    return this.#dagsDir;
  }

  /** Connects the scheduler (created after the service, which it needs to know the DAG folder). */
  attach(host: ScheduledQueryHost): void {
    this.#host = host;
  }

  #now(): number {
    return (this.#options.clockMs ?? Date.now)();
  }

  async create(input: CreateScheduledQueryInput): Promise<{ Arn: string }> {
    const existing = this.#byName.get(input.Name);
    if (existing) {
      // The SDKs fill ClientToken: a retry of the same creation answers as the first did.
      if (input.ClientToken !== undefined && existing.ClientToken === input.ClientToken)
        return { Arn: existing.Arn };
      throw conflict(
        `a scheduled query named '${input.Name}' exists (${existing.Arn}): delete it first or pick another name`,
        {
          awsCode: "ConflictException",
        },
      );
    }
    if (!namePattern.test(input.Name)) {
      throw validationError(
        `Name '${input.Name}' is not a valid scheduled query name (letters, digits and | ! - _ * ' ( ) / .)`,
        {
          awsCode: "ValidationException",
        },
      );
    }
    const cron = cronOfScheduleExpression(input.ScheduleConfiguration.ScheduleExpression);
    const bucket = input.ErrorReportConfiguration.S3Configuration.BucketName;
    if ((await this.#options.lake.headBucket(bucket)) === null) {
      throw validationError(
        `ErrorReportConfiguration.S3Configuration.BucketName: bucket '${bucket}' does not exist in the lake; create it first (hourglass lake mb, or S3 CreateBucket)`,
        { awsCode: "ValidationException" },
      );
    }
    const columns = await this.#columnsOf(input.QueryString);
    const target = input.TargetConfiguration?.TimestreamConfiguration;
    if (target !== undefined) {
      try {
        await this.#options.store.describeTable(target.DatabaseName, target.TableName);
      } catch (error) {
        if (toHourglassError(error).code !== "NotFound") throw error;
        throw validationError(
          `TargetConfiguration: the target table '${target.DatabaseName}'.'${target.TableName}' does not exist; create it before the scheduled query`,
          { awsCode: "ValidationException" },
        );
      }
      checkMappings(target, columns);
    }
    const { region = "local", accountId = "000000000000" } = this.#options;
    const suffix = randomUUID().replace(/-/g, "").slice(0, 16);
    const definition: ScheduledQueryDefinition = {
      ...input,
      Arn: `arn:aws:timestream:${region}:${accountId}:scheduled-query/${input.Name}-${suffix}`,
      CreationTime: this.#now(),
      State: "ENABLED",
      Tags: input.Tags ?? [],
      cron,
      dagId: dagIdOf(input.Name),
      RecentlyFailedRuns: [],
    };
    this.#byName.set(definition.Name, definition);
    await this.#save();
    this.#writeDagFile(definition);
    await this.#host?.reloadDags();
    await this.#host?.setPaused(definition.dagId, false);
    return { Arn: definition.Arn };
  }

  /** The query's columns, from running it for one row at the current time (as PrepareQuery does). */
  async #columnsOf(queryString: string): Promise<ColumnInfo[]> {
    try {
      const first = await this.#options.store.query({
        QueryString: bindScheduledRuntime(queryString, this.#now()),
        MaxRows: 1,
      });
      return first.ColumnInfo;
    } catch (error) {
      const e = toHourglassError(error);
      throw validationError(`QueryString does not run: ${e.message}`, { awsCode: "ValidationException" });
    }
  }

  byArn(arn: string): ScheduledQueryDefinition {
    for (const definition of this.#byName.values()) if (definition.Arn === arn) return definition;
    throw notFound(`no scheduled query has the ARN '${arn}' (ListScheduledQueries lists them)`, {
      awsCode: "ResourceNotFoundException",
      arn,
    });
  }

  byName(name: string): ScheduledQueryDefinition {
    const found = this.#byName.get(name);
    if (!found) throw notFound(`no scheduled query is named '${name}'`, { name });
    return found;
  }

  /** Sorted by name, for paging. */
  list(): ScheduledQueryDefinition[] {
    return [...this.#byName.values()].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  }

  /** The next and the previous fire times of its schedule, from now. */
  invocationTimes(definition: ScheduledQueryDefinition): { next: number | null; previous: number | null } {
    const schedule = parseSchedule(definition.cron, "UTC");
    const now = new Date(this.#now());
    const previous =
      definition.LastRunSummary?.InvocationTime ?? fireAtOrBefore(schedule, now)?.getTime() ?? null;
    return {
      next: definition.State === "ENABLED" ? (fireAfter(schedule, now)?.getTime() ?? null) : null,
      previous,
    };
  }

  async setState(arn: string, state: ScheduledQueryState): Promise<void> {
    const definition = this.byArn(arn);
    definition.State = state;
    await this.#save();
    await this.#host?.setPaused(definition.dagId, state === "DISABLED");
  }

  async delete(arn: string): Promise<void> {
    const definition = this.byArn(arn);
    this.#byName.delete(definition.Name);
    await this.#save();
    fs.rmSync(path.join(this.#dagsDir, `${definition.dagId}.ts`), { force: true });
    await this.#host?.reloadDags();
  }

  async tag(arn: string, tags: readonly { Key: string; Value: string }[]): Promise<void> {
    const definition = this.byArn(arn);
    const next = new Map(definition.Tags.map((t) => [t.Key, t.Value]));
    for (const t of tags) next.set(t.Key, t.Value);
    if (next.size > 200) {
      throw validationError(`a resource may have at most 200 tags; this would make ${next.size}`, {
        awsCode: "ServiceQuotaExceededException",
      });
    }
    definition.Tags = [...next].map(([Key, Value]) => ({ Key, Value }));
    await this.#save();
  }

  async untag(arn: string, keys: readonly string[]): Promise<void> {
    const definition = this.byArn(arn);
    definition.Tags = definition.Tags.filter((t) => !keys.includes(t.Key));
    await this.#save();
  }

  /** ExecuteScheduledQuery: runs it now for `invocationMs`; a retry with the same ClientToken runs nothing. */
  async executeOnDemand(arn: string, invocationMs: number, clientToken?: string): Promise<void> {
    const definition = this.byArn(arn);
    const now = this.#now();
    for (const [token, entry] of this.#executions) if (entry.expiresMs < now) this.#executions.delete(token);
    const key = clientToken === undefined ? undefined : `${arn}\u0000${clientToken}`;
    const earlier = key === undefined ? undefined : this.#executions.get(key);
    if (earlier) return earlier.done;
    const done = this.execute(definition.Name, invocationMs, "manual").then(() => undefined);
    if (key !== undefined) this.#executions.set(key, { expiresMs: now + 5 * 60_000, done });
    return done;
  }

  /**
   * One run: the query for `invocationMs`, its rows written into the target table, the summary
   * kept. A failure is not thrown: it is the run's summary (with an error report in the lake).
   */
  async execute(name: string, invocationMs: number, trigger: "scheduled" | "manual"): Promise<RunSummary> {
    const definition = this.byName(name);
    const started = this.#now();
    const startedReal = performance.now();
    const stats = {
      DataWrites: 0,
      BytesMetered: 0,
      CumulativeBytesScanned: 0,
      RecordsIngested: 0,
      QueryResultRows: 0,
    };
    const auto = trigger === "scheduled";
    const failures: { reason: string; records?: unknown[] }[] = [];
    try {
      const target = definition.TargetConfiguration?.TimestreamConfiguration;
      let nextToken: string | undefined;
      do {
        const page = await this.#options.store.query({
          QueryString: bindScheduledRuntime(definition.QueryString, invocationMs),
          ...(nextToken === undefined ? {} : { NextToken: nextToken }),
        });
        stats.QueryResultRows += page.Rows.length;
        stats.CumulativeBytesScanned += Buffer.byteLength(JSON.stringify(page.Rows));
        if (target !== undefined)
          await this.#write(target, page.ColumnInfo, page.Rows, started, stats, failures);
        nextToken = page.NextToken;
      } while (nextToken !== undefined);
    } catch (error) {
      failures.push({ reason: toHourglassError(error).message });
    }
    stats.BytesMetered = stats.CumulativeBytesScanned;
    const summary: RunSummary = {
      InvocationTime: invocationMs,
      TriggerTime: started,
      RunStatus: `${auto ? "AUTO" : "MANUAL"}_TRIGGER_${failures.length === 0 ? "SUCCESS" : "FAILURE"}`,
      ExecutionStats: { ExecutionTimeInMillis: Math.round(performance.now() - startedReal), ...stats },
    };
    if (failures.length > 0) {
      summary.FailureReason = failures[0]!.reason;
      summary.ErrorReportLocation = {
        S3ReportLocation: await this.#writeErrorReport(definition, summary, failures),
      };
    }
    // The definition may have been deleted meanwhile: the summary then goes nowhere.
    const current = this.#byName.get(name);
    if (current !== undefined) {
      current.LastRunSummary = summary;
      if (failures.length > 0) {
        current.RecentlyFailedRuns = [summary, ...current.RecentlyFailedRuns].slice(0, maxRecentlyFailedRuns);
      }
      await this.#save();
    }
    return summary;
  }

  async #write(
    target: NonNullable<ScheduledQueryDefinition["TargetConfiguration"]>["TimestreamConfiguration"],
    columns: ColumnInfo[],
    rows: Row[],
    /** The records' Version: a later run of the same interval (late data came) replaces what an earlier one wrote. */
    version: number,
    stats: { DataWrites: number; RecordsIngested: number },
    failures: { reason: string; records?: unknown[] }[],
  ): Promise<void> {
    const records: WriteRecord[] = [];
    for (const row of rows) {
      try {
        for (const record of recordsOfRow(target, columns, row))
          records.push({ ...record, Version: version });
      } catch (error) {
        failures.push({
          reason: `a result row was not written: ${(error as Error).message}`,
          records: [row],
        });
      }
    }
    for (let i = 0; i < records.length; i += writeBatch) {
      const batch = records.slice(i, i + writeBatch);
      const result = await this.#options.store.writeRecords({
        DatabaseName: target.DatabaseName,
        TableName: target.TableName,
        Records: batch,
      });
      stats.DataWrites += Buffer.byteLength(JSON.stringify(batch));
      stats.RecordsIngested += result.RecordsIngested.Total;
      for (const rejected of result.rejected) {
        failures.push({
          reason: `record rejected by the target table: ${rejected.Reason}`,
          records: [batch[rejected.RecordIndex]],
        });
      }
    }
  }

  /** The error report: JSON in the configured bucket, `<prefix>/<query name>/<invocation time>/<id>.json`. */
  async #writeErrorReport(
    definition: ScheduledQueryDefinition,
    summary: RunSummary,
    failures: { reason: string; records?: unknown[] }[],
  ): Promise<{ BucketName: string; ObjectKey: string }> {
    const { BucketName, ObjectKeyPrefix } = definition.ErrorReportConfiguration.S3Configuration;
    const reportId = randomUUID();
    const ObjectKey = [
      ObjectKeyPrefix?.replace(/\/+$/, ""),
      definition.Name,
      new Date(summary.InvocationTime).toISOString(),
      `${reportId}.json`,
    ]
      .filter((part) => part !== undefined && part !== "")
      .join("/");
    const report = {
      reportId,
      scheduledQueryArn: definition.Arn,
      invocationTime: new Date(summary.InvocationTime).toISOString(),
      triggerTime: new Date(summary.TriggerTime).toISOString(),
      runStatus: summary.RunStatus,
      errors: failures.map((f) => ({
        reason: f.reason,
        ...(f.records === undefined ? {} : { records: f.records }),
      })),
    };
    try {
      await this.#options.lake.putObject(
        BucketName,
        ObjectKey,
        Buffer.from(`${JSON.stringify(report, null, 2)}\n`),
        {
          contentType: "application/json",
        },
      );
    } catch (error) {
      summary.FailureReason = `${summary.FailureReason ?? ""}; the error report could not be written to s3://${BucketName}/${ObjectKey}: ${toHourglassError(error).message}`;
    }
    return { BucketName, ObjectKey };
  }

  #writeDagFile(definition: ScheduledQueryDefinition): void {
    const file = path.join(this.#dagsDir, `${definition.dagId}.ts`);
    const text = generatedDagFile(definition);
    if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === text) return;
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, text);
    fs.renameSync(temp, file);
  }

  /** Writes every definition, one save after another (the last one holds the latest state). */
  #save(): Promise<void> {
    const work = async () => {
      const temp = `${this.#file}.${process.pid}.tmp`;
      await fs.promises.writeFile(temp, `${JSON.stringify([...this.#byName.values()], null, 2)}\n`);
      await fs.promises.rename(temp, this.#file);
    };
    this.#saving = this.#saving.then(work, work);
    return this.#saving;
  }
}

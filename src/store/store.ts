/**
 * The Timestream-compatible store on DuckDB: catalog operations, WriteRecords, Query with paging,
 * export of a query to a file, and the retention sweep.
 *
 * Writes and DDL go through one serial queue on one DuckDB connection (DuckDB has one writer per
 * process anyway); each query gets its own connection so reads never wait for writes.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { conflict, HourglassError, notFound, validationError } from "../errors.js";
import type { Lake } from "../lake/index.js";
import type { MeasureInfo, ResolvedTable, TableResolver, Translation } from "../sql/contract.js";
import { dialectSetupSql, translate } from "../sql/index.js";
import { batchFromRecords } from "./batch.js";
import {
  Catalog,
  createTableDdl,
  type DatabaseState,
  dropTableDdl,
  emptyTableState,
  measuresTable,
  pointsTable,
  seriesTable,
  type TableState,
  tableColumns,
  VALUE_COLUMN,
  visibleCutoffNs,
} from "./catalog.js";
import { type ColumnarWriteRequest, normalizeColumns } from "./columns.js";
import { type DuckDBResult, Engine, quoteIdent, quoteString } from "./engine.js";
import { cursorIdOf, PageTokens } from "./page-tokens.js";
import {
  cancelledError,
  DEFAULT_QUERY_LIMITS,
  duckdbSize,
  MAX_QUERY_TIMEOUT_MS,
  type QueryLimits,
  resourceError,
  Slots,
  type StopReason,
  timeoutError,
} from "./query-limits.js";
import {
  type DimensionCache,
  isRejection,
  mergeCommon,
  type NormalizedRecord,
  normalizeRecord,
} from "./records.js";
import { chunkRows, columnInfoOf, datumConverter, formatTimestampNs } from "./results.js";
import type {
  ColumnInfo,
  CreateTableInput,
  DatabaseDescription,
  Datum,
  ExportInput,
  ExportResult,
  QueryInput,
  QueryResponse,
  RejectedRecord,
  Row,
  TableDescription,
  UpdateTableInput,
  WriteRecord,
  WriteRecordsRequest,
  WriteResult,
} from "./types.js";
import { runUnload } from "./unload.js";
import { TableWriter } from "./writer.js";

export interface StoreOptions {
  /** Folder for the DuckDB file (`store.duckdb`), or `path` for an explicit file (":memory:" for tests). */
  dir?: string;
  path?: string;
  /** The store's clock in epoch milliseconds: injectable so retention and ingestion windows can be tested. */
  clockMs?: () => number;
  /** How often the retention sweep removes expired points; 0 turns the timer off. */
  sweepIntervalMs?: number;
  threads?: number;
  /** DuckDB's memory_limit (same as limits.memoryLimit, which wins). */
  memoryLimit?: string;
  /** What a query may use (docs/limits.md); each missing member takes its default. */
  limits?: Partial<QueryLimits>;
  /** Account id used in ARNs. */
  accountId?: string;
  region?: string;
  /** Where UNLOAD writes (its `s3://bucket/…` are this lake's buckets); without one UNLOAD is refused. */
  lake?: Lake;
}

/** Timestream's API limit for WriteRecords; the native batch path may pass a larger limit. */
export const API_MAX_RECORDS_PER_WRITE = 100;
const NAME_PATTERN = /^[a-zA-Z0-9_.-]{3,256}$/;
const DEFAULT_MEMORY_HOURS = 6;
const DEFAULT_MAGNETIC_DAYS = 73000;
const CURSOR_IDLE_MS = 10 * 60_000;
const DEFAULT_PAGE_BYTES = 1_000_000;
const MAX_IDLE_CONNECTIONS = 4;
const INTERRUPT_REPEAT_MS = 100;

type QueryConnection = Awaited<ReturnType<Engine["connect"]>>;

/** One query's use of its connection, against the time limit, and what stopped it. */
interface QueryRun {
  connection: QueryConnection;
  /** Time spent inside DuckDB calls so far. */
  elapsedMs: number;
  /** A DuckDB call is in progress, so interrupt() reaches it. */
  busy: boolean;
  stopReason?: StopReason;
  /** interrupt() was called: the connection is closed instead of being reused. */
  interrupted: boolean;
  /** Interrupts the call in progress (CancelQuery); set while busy. */
  stop?: (reason: StopReason) => void;
}

/** What the store counts about query limits (tests and operators read it). */
export interface QueryStats {
  /** DuckDB calls of queries and exports in progress, and those waiting for a slot. */
  running: number;
  waiting: number;
  /** Queries stopped by the time limit, and by their client going away or CancelQuery. */
  timedOut: number;
  cancelled: number;
  /** Queries refused by the memory or temp-folder limit. */
  outOfMemory: number;
}

/** Where DuckDB spills, inside the state folder; emptied when the store opens. */
export const STORE_TEMP_FOLDER = "store.tmp";

interface Cursor {
  id: string;
  queryId: string;
  connection: Awaited<ReturnType<Engine["connect"]>>;
  run: QueryRun;
  result: DuckDBResult;
  columnInfo: ColumnInfo[];
  converters: ((value: never) => Datum)[];
  buffered: Row[];
  done: boolean;
  lastUsedMs: number;
  released?: boolean;
}

function checkName(kind: string, name: unknown): string {
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
    throw validationError(
      `${kind} name '${String(name)}' is invalid: use 3 to 256 characters from letters, digits, '_', '.', '-'`,
      { name },
    );
  }
  return name;
}

function checkRetention(input: CreateTableInput | UpdateTableInput, current?: TableState) {
  const hours =
    input.RetentionProperties?.MemoryStoreRetentionPeriodInHours ??
    current?.memoryHours ??
    DEFAULT_MEMORY_HOURS;
  const days =
    input.RetentionProperties?.MagneticStoreRetentionPeriodInDays ??
    current?.magneticDays ??
    DEFAULT_MAGNETIC_DAYS;
  const magneticWrites =
    input.MagneticStoreWriteProperties?.EnableMagneticStoreWrites ?? current?.magneticWrites ?? false;
  const h = Number(hours);
  const d = Number(days);
  if (!Number.isInteger(h) || h < 1 || h > 8766) {
    throw validationError(
      `MemoryStoreRetentionPeriodInHours must be an integer from 1 to 8766, got ${String(hours)}`,
    );
  }
  if (!Number.isInteger(d) || d < 1 || d > 73000) {
    throw validationError(
      `MagneticStoreRetentionPeriodInDays must be an integer from 1 to 73000, got ${String(days)}`,
    );
  }
  if (typeof magneticWrites !== "boolean")
    throw validationError("EnableMagneticStoreWrites must be true or false");
  return { memoryHours: h, magneticDays: d, magneticWrites };
}

/** A WriteRecords call waiting in the serial queue, perhaps to be written with others (group commit). */
interface QueuedWrite {
  request: WriteRecordsRequest;
  records: WriteRecord[];
  /** The number of barriers (non-write queue work) enqueued before it: a group never crosses one. */
  barrier: number;
  done: boolean;
  resolve: (result: WriteResult) => void;
  reject: (error: unknown) => void;
  /** Filled when the call is prepared for a group. */
  table?: TableState;
  valid?: NormalizedRecord[];
  rejected?: RejectedRecord[];
  /** (series, measure, time) of its valid records; computed only when a group forms. */
  keys?: Set<string>;
}

/** At most this many records go into one grouped transaction (a single larger call still runs alone). */
export const MAX_GROUP_RECORDS = 50_000;

export class TimestreamStore implements TableResolver {
  private queue: Promise<unknown> = Promise.resolve();
  /** WriteRecords calls not yet written, in arrival order. */
  private readonly waitingWrites: QueuedWrite[] = [];
  private barriers = 0;
  private readonly cursors = new Map<string, Cursor>();
  private readonly pageTokens = new PageTokens(CURSOR_IDLE_MS);
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly writer: TableWriter;
  private closed = false;
  private readonly slots: Slots;
  private readonly counters = { running: 0, timedOut: 0, cancelled: 0, outOfMemory: 0 };

  private constructor(
    private readonly engine: Engine,
    private readonly catalog: Catalog,
    private readonly clockMs: () => number,
    private readonly arnPrefix: string,
    readonly limits: Readonly<QueryLimits & { tempDirectory: string | null }>,
    private readonly lake: Lake | undefined,
  ) {
    this.writer = new TableWriter(engine);
    this.slots = new Slots(limits.maxConcurrent);
  }

  static async open(options: StoreOptions = {}): Promise<TimestreamStore> {
    let file = options.path;
    if (!file) {
      if (!options.dir) throw validationError("the store needs a state folder (dir) or a file path");
      fs.mkdirSync(options.dir, { recursive: true });
      file = path.join(options.dir, "store.duckdb");
    }
    const limits = resolveLimits(options);
    // A file store spills next to its file (DuckDB's own default is <file>.tmp); an in-memory one
    // keeps DuckDB's default.
    const tempDirectory = file === ":memory:" ? null : path.join(path.dirname(file), STORE_TEMP_FOLDER);
    let engine: Engine;
    try {
      engine = await Engine.open({
        path: file,
        threads: options.threads,
        memoryLimit: duckdbSize(limits.memoryLimit, "queryMemoryLimit"),
        maxTempSize: duckdbSize(limits.tempLimit, "queryTempLimit"),
        ...(tempDirectory ? { tempDirectory } : {}),
      });
    } catch (error) {
      // DuckDB lets one process write a file: say which file and what to do, not DuckDB's raw text.
      const message = error instanceof Error ? error.message : String(error);
      if (/Could not set lock/i.test(message)) {
        const pid = /PID (\d+)/.exec(message)?.[1];
        throw new HourglassError(
          "Conflict",
          `the store ${file} is open in another process${pid ? ` (pid ${pid})` : ""}: stop it, or talk to it (a running \`hourglass up\` serves the CLI over HTTP), or use another --state-dir`,
          { cause: error },
        );
      }
      throw error;
    }
    // Spill files left by a process that was killed: the file lock is ours now, so nothing else
    // uses them, and no query has run yet in this process.
    if (tempDirectory) clearTempFolder(tempDirectory);
    const catalog = await Catalog.load(engine);
    const region = options.region ?? "local";
    const store = new TimestreamStore(
      engine,
      catalog,
      options.clockMs ?? Date.now,
      `arn:aws:timestream:${region}:${options.accountId ?? "000000000000"}:database/`,
      Object.freeze({ ...limits, tempDirectory }),
      options.lake,
    );
    const sweepMs = options.sweepIntervalMs ?? 60_000;
    if (sweepMs > 0) {
      store.sweepTimer = setInterval(() => {
        store.sweepRetention().catch(() => undefined);
      }, sweepMs);
      store.sweepTimer.unref();
    }
    return store;
  }

  private nowNs(): bigint {
    return BigInt(Math.floor(this.clockMs())) * 1_000_000n;
  }

  /** Runs `work` after every earlier write/DDL has finished: the store's single writer. */
  private serial<T>(work: () => Promise<T>, options: { groupableWrite?: boolean } = {}): Promise<T> {
    if (this.closed) return Promise.reject(new HourglassError("Conflict", "the store is closed"));
    // Anything but a WriteRecords call is a barrier that no write may be grouped across.
    if (!options.groupableWrite) this.barriers++;
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  // ---- databases -------------------------------------------------------------------------------

  createDatabase(name: string): Promise<DatabaseDescription> {
    return this.serial(async () => {
      checkName("Database", name);
      if (this.catalog.databases.has(name))
        throw conflict(`Database '${name}' already exists`, { database: name });
      const now = this.clockMs();
      await this.engine.run(`INSERT INTO _hg.databases VALUES (${quoteString(name)}, ${now}, ${now})`);
      const db: DatabaseState = { name, createdMs: now, updatedMs: now };
      this.catalog.databases.set(name, db);
      return this.describeDb(db);
    });
  }

  private describeDb(db: DatabaseState): DatabaseDescription {
    return {
      Arn: `${this.arnPrefix}${db.name}`,
      DatabaseName: db.name,
      TableCount: this.catalog.tablesOf(db.name).length,
      CreationTime: new Date(db.createdMs),
      LastUpdatedTime: new Date(db.updatedMs),
    };
  }

  private requireDatabase(name: string): DatabaseState {
    const db = this.catalog.databases.get(name);
    if (!db) throw notFound(`Database '${name}' does not exist`, { database: name });
    return db;
  }

  async describeDatabase(name: string): Promise<DatabaseDescription> {
    return this.describeDb(this.requireDatabase(name));
  }

  async listDatabaseDescriptions(): Promise<DatabaseDescription[]> {
    return [...this.catalog.databases.values()]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((d) => this.describeDb(d));
  }

  updateDatabase(name: string): Promise<DatabaseDescription> {
    // Timestream's UpdateDatabase only changes the KMS key, which a local store does not have.
    return this.serial(async () => {
      const db = this.requireDatabase(name);
      db.updatedMs = this.clockMs();
      await this.engine.run(
        `UPDATE _hg.databases SET updated_ms = ${db.updatedMs} WHERE name = ${quoteString(name)}`,
      );
      return this.describeDb(db);
    });
  }

  deleteDatabase(name: string): Promise<void> {
    return this.serial(async () => {
      this.requireDatabase(name);
      const tables = this.catalog.tablesOf(name);
      if (tables.length > 0) {
        throw conflict(
          `Database '${name}' still has ${tables.length} table(s) (${tables.map((t) => t.name).join(", ")}): delete them first`,
          { database: name },
        );
      }
      await this.engine.run(`DELETE FROM _hg.databases WHERE name = ${quoteString(name)}`);
      this.catalog.databases.delete(name);
    });
  }

  // ---- tables ----------------------------------------------------------------------------------

  createTable(input: CreateTableInput): Promise<TableDescription> {
    return this.serial(async () => {
      this.requireDatabase(input.DatabaseName);
      checkName("Table", input.TableName);
      if (this.catalog.getTable(input.DatabaseName, input.TableName)) {
        throw conflict(`Table '${input.DatabaseName}.${input.TableName}' already exists`, {
          database: input.DatabaseName,
          table: input.TableName,
        });
      }
      const retention = checkRetention(input);
      const now = this.clockMs();
      const table = emptyTableState({
        id: this.catalog.nextTableId,
        database: input.DatabaseName,
        name: input.TableName,
        ...retention,
        createdMs: now,
        updatedMs: now,
      });
      await this.engine.run("BEGIN TRANSACTION");
      try {
        for (const ddl of createTableDdl(table)) await this.engine.run(ddl);
        await this.engine.run("COMMIT");
      } catch (error) {
        await this.engine.run("ROLLBACK").catch(() => undefined);
        throw error;
      }
      this.catalog.nextTableId++;
      this.catalog.tables.set(Catalog.key(table.database, table.name), table);
      return this.describeTableState(table);
    });
  }

  private requireTable(database: string, name: string): TableState {
    this.requireDatabase(database);
    const table = this.catalog.getTable(database, name);
    if (!table) throw notFound(`Table '${database}.${name}' does not exist`, { database, table: name });
    return table;
  }

  private describeTableState(t: TableState): TableDescription {
    return {
      Arn: `${this.arnPrefix}${t.database}/table/${t.name}`,
      DatabaseName: t.database,
      TableName: t.name,
      TableStatus: "ACTIVE",
      RetentionProperties: {
        MemoryStoreRetentionPeriodInHours: t.memoryHours,
        MagneticStoreRetentionPeriodInDays: t.magneticDays,
      },
      MagneticStoreWriteProperties: { EnableMagneticStoreWrites: t.magneticWrites },
      CreationTime: new Date(t.createdMs),
      LastUpdatedTime: new Date(t.updatedMs),
      Schema: tableColumns(t).map((c) => ({ Name: c.name, Type: c.type, Role: c.role })),
    };
  }

  async describeTable(database: string, name: string): Promise<TableDescription> {
    return this.describeTableState(this.requireTable(database, name));
  }

  async listTableDescriptions(database?: string): Promise<TableDescription[]> {
    if (database !== undefined) this.requireDatabase(database);
    return [...this.catalog.tables.values()]
      .filter((t) => database === undefined || t.database === database)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((t) => this.describeTableState(t));
  }

  updateTable(input: UpdateTableInput): Promise<TableDescription> {
    return this.serial(async () => {
      const table = this.requireTable(input.DatabaseName, input.TableName);
      const retention = checkRetention(input, table);
      const now = this.clockMs();
      await this.engine.run(
        `UPDATE _hg.tables SET memory_hours = ${retention.memoryHours}, magnetic_days = ${retention.magneticDays},
           magnetic_writes = ${retention.magneticWrites}, updated_ms = ${now} WHERE table_id = ${table.id}`,
      );
      Object.assign(table, retention, { updatedMs: now });
      return this.describeTableState(table);
    });
  }

  deleteTable(database: string, name: string): Promise<void> {
    return this.serial(async () => {
      const table = this.requireTable(database, name);
      await this.engine.run("BEGIN TRANSACTION");
      try {
        for (const ddl of dropTableDdl(table)) await this.engine.run(ddl);
        await this.engine.run("COMMIT");
      } catch (error) {
        await this.engine.run("ROLLBACK").catch(() => undefined);
        throw error;
      }
      this.catalog.tables.delete(Catalog.key(database, name));
      this.writer.forgetTable(table.id);
    });
  }

  // ---- writes ----------------------------------------------------------------------------------

  /**
   * WriteRecords. `maxRecords` is Timestream's 100 on the API surface; the native batch path (the
   * connector, the load generator) passes a larger limit. Returns per-record rejections; the
   * others are written in one transaction.
   */
  writeRecords(request: WriteRecordsRequest, options: { maxRecords?: number } = {}): Promise<WriteResult> {
    const maxRecords = options.maxRecords ?? API_MAX_RECORDS_PER_WRITE;
    const records = request?.Records;
    if (!Array.isArray(records) || records.length === 0) {
      return Promise.reject(validationError("Records must be a non-empty list"));
    }
    if (records.length > maxRecords) {
      return Promise.reject(
        validationError(
          `Records has ${records.length} records; at most ${maxRecords} are allowed per request`,
        ),
      );
    }
    return new Promise<WriteResult>((resolve, reject) => {
      const entry: QueuedWrite = { request, records, barrier: this.barriers, done: false, resolve, reject };
      this.serial(() => this.writeGroupFrom(entry), { groupableWrite: true }).catch(reject);
      if (!this.closed) this.waitingWrites.push(entry);
    });
  }

  /**
   * Group commit: when `first`'s turn comes, the calls for the same table that wait behind it
   * (with no DDL, sweep or checkpoint between) are written with it in one transaction, one WAL
   * sync instead of one a call. A call joins only if none of its (series, measure, time) keys is
   * in an earlier member: the writer settles duplicates inside a batch by its own rule, so with
   * disjoint keys each record meets only stored points, exactly as if the calls ran one after the
   * other. The first call that overlaps ends the group (it runs next, after the commit).
   */
  private async writeGroupFrom(first: QueuedWrite): Promise<void> {
    if (first.done) return; // written with an earlier group
    const group: QueuedWrite[] = [];
    let groupRecords = 0;
    let groupKeys: Set<string> | undefined;
    for (const entry of this.waitingWrites) {
      if (entry.done) continue;
      if (entry.barrier !== first.barrier) break;
      if (entry !== first) {
        if (
          entry.request.DatabaseName !== first.request.DatabaseName ||
          entry.request.TableName !== first.request.TableName
        )
          continue; // another table's write: independent, it keeps its own turn
        if (groupRecords + entry.records.length > MAX_GROUP_RECORDS) break;
      }
      if (!this.prepareWrite(entry)) {
        if (entry === first) break; // the calls behind it get their own turn
        continue; // failed alone, on its own request-level error
      }
      if (entry !== first) {
        groupKeys ??= recordKeys(group[0]!);
        const keys = recordKeys(entry);
        let overlaps = false;
        for (const key of keys) {
          if (groupKeys.has(key)) {
            overlaps = true;
            break;
          }
        }
        if (overlaps) break;
        for (const key of keys) groupKeys.add(key);
      }
      group.push(entry);
      groupRecords += entry.records.length;
    }
    for (const entry of group) entry.done = true;
    this.forgetDoneWrites();
    if (group.length === 0) return;
    try {
      const results = await this.writeGroup(group);
      for (let i = 0; i < group.length; i++) group[i]!.resolve(results[i]!);
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      // The grouped transaction failed (and rolled back): one call's records must not fail the
      // others, so each call runs again alone and only the one that fails on its own fails.
      for (const entry of group) {
        try {
          entry.resolve((await this.writeGroup([entry]))[0]!);
        } catch (own) {
          entry.reject(own);
        }
      }
    }
  }

  /** Validates one call on its own; a request-level error fails it alone (and returns false). */
  private prepareWrite(entry: QueuedWrite): boolean {
    if (entry.table) return true;
    try {
      const { request, records } = entry;
      const table = this.requireTable(request.DatabaseName, request.TableName);
      const rejected: RejectedRecord[] = [];
      const valid: NormalizedRecord[] = [];
      const dimensionCache: DimensionCache = new Map();
      for (let i = 0; i < records.length; i++) {
        const merged = mergeCommon(request.CommonAttributes, records[i]!, i);
        const normalized = normalizeRecord(merged, i, dimensionCache);
        if (isRejection(normalized)) rejected.push(normalized);
        else valid.push(normalized);
      }
      Object.assign(entry, { table, valid, rejected });
      return true;
    } catch (error) {
      entry.done = true;
      entry.reject(error);
      return false;
    }
  }

  private forgetDoneWrites(): void {
    let kept = 0;
    for (const entry of this.waitingWrites) if (!entry.done) this.waitingWrites[kept++] = entry;
    this.waitingWrites.length = kept;
  }

  /**
   * Writes prepared calls to one table in one transaction: their records one after the other, each
   * call's record indexes offset by the records before it, and the result split back per call.
   */
  private async writeGroup(group: QueuedWrite[]): Promise<WriteResult[]> {
    const table = group[0]!.table!;
    if (group.length === 1) {
      const { valid, rejected } = group[0]!;
      const result = await this.writer.write(table, batchFromRecords(valid!), rejected!, this.nowNs());
      result.rejected.sort((a, b) => a.RecordIndex - b.RecordIndex);
      return [result];
    }
    const offsets: number[] = [];
    const valid: NormalizedRecord[] = [];
    const rejected: RejectedRecord[] = [];
    let offset = 0;
    for (const entry of group) {
      offsets.push(offset);
      // The normalized records are this call's own objects: shifting their index in place is safe
      // (and undone below if the group fails, for the calls to run again alone).
      for (const record of entry.valid!) {
        record.index += offset;
        valid.push(record);
      }
      for (const r of entry.rejected!) rejected.push({ ...r, RecordIndex: r.RecordIndex + offset });
      offset += entry.records.length;
    }
    try {
      return await this.writeCombined(table, group, offsets, valid, rejected);
    } catch (error) {
      group.forEach((entry, i) => {
        for (const record of entry.valid!) record.index -= offsets[i]!;
      });
      throw error;
    }
  }

  private async writeCombined(
    table: TableState,
    group: QueuedWrite[],
    offsets: number[],
    valid: NormalizedRecord[],
    rejected: RejectedRecord[],
  ): Promise<WriteResult[]> {
    const memberOf = (recordIndex: number): number => {
      let member = offsets.length - 1;
      while (offsets[member]! > recordIndex) member--;
      return member;
    };
    const magnetic = new Array<number>(group.length).fill(0);
    const combined = await this.writer.write(
      table,
      batchFromRecords(valid),
      rejected,
      this.nowNs(),
      (index) => {
        magnetic[memberOf(index)]!++;
      },
    );
    const results: WriteResult[] = group.map((entry, i) => ({
      RecordsIngested: { Total: entry.records.length, MemoryStore: 0, MagneticStore: magnetic[i]! },
      rejected: [],
    }));
    for (const r of combined.rejected) {
      const member = memberOf(r.RecordIndex);
      results[member]!.rejected.push({ ...r, RecordIndex: r.RecordIndex - offsets[member]! });
    }
    for (const result of results) {
      result.rejected.sort((a, b) => a.RecordIndex - b.RecordIndex);
      const ingested = result.RecordsIngested;
      ingested.Total -= result.rejected.length;
      ingested.MemoryStore = ingested.Total - ingested.MagneticStore;
    }
    return results;
  }

  /**
   * The columnar native batch path (see columns.ts): what the load generator uses to fill history.
   * Same rules and result as writeRecords, with no limit on the number of rows.
   */
  writeColumns(request: ColumnarWriteRequest): Promise<WriteResult> {
    return this.serial(async () => {
      const table = this.requireTable(request.DatabaseName, request.TableName);
      const { batch, rejected } = normalizeColumns(request);
      const result = await this.writer.write(table, batch, rejected, this.nowNs());
      result.rejected.sort((a, b) => a.RecordIndex - b.RecordIndex);
      return result;
    });
  }

  // ---- queries ---------------------------------------------------------------------------------

  listDatabases(): string[] {
    return [...this.catalog.databases.keys()].sort();
  }

  listTables(database: string): string[] {
    this.requireDatabase(database);
    return this.catalog
      .tablesOf(database)
      .map((t) => t.name)
      .sort();
  }

  resolveTable(database: string, name: string): ResolvedTable {
    const table = this.requireTable(database, name);
    const cutoff = formatTimestampNs(visibleCutoffNs(table, this.nowNs()));
    return {
      database,
      table: name,
      relationSql: tableRelationSql(table, cutoff, undefined),
      columns: tableColumns(table),
      relationForMeasures: (measureNames) => tableRelationSql(table, cutoff, measureNames),
    };
  }

  listMeasures(database: string, name: string): MeasureInfo[] {
    const table = this.requireTable(database, name);
    const out: MeasureInfo[] = [];
    for (const m of [...table.measures.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      for (const type of [...m.types].sort()) {
        out.push({ measureName: m.name, dataType: type.toLowerCase(), dimensions: [...m.dimensions].sort() });
      }
    }
    return out;
  }

  /**
   * Translates Timestream SQL to DuckDB SQL (exposed for EXPLAIN-style tooling and tests). An
   * UNLOAD is refused: only query() runs one, and its SELECT alone must not run in its place.
   */
  translate(sql: string, usedFor = "this call"): string {
    const translation = this.translation(sql);
    if (translation.unload) {
      throw validationError(
        `UNLOAD cannot be used in ${usedFor}: send it as a query (the Query API, POST /api/v1/query or hourglass query)`,
      );
    }
    return translation.duckdbSql;
  }

  private translation(sql: string): Translation {
    if (typeof sql !== "string" || sql.trim() === "") throw validationError("QueryString must not be empty");
    if (sql.length > MAX_QUERY_STRING_CHARS) {
      throw new HourglassError(
        "ValidationError",
        `QueryString is ${sql.length.toLocaleString("en-US")} characters long, more than Timestream's limit of ${MAX_QUERY_STRING_CHARS.toLocaleString("en-US")} (a fixed limit): shorten the query, e.g. use IN (…) or a join instead of long literal lists`,
        { context: { limit: "QueryString", value: MAX_QUERY_STRING_CHARS } },
      );
    }
    try {
      return translate(sql, this, {
        nowNs: this.nowNs(),
        sequenceMaxEntries: this.limits.sequenceMaxEntries,
      });
    } catch (error) {
      // The parser bounds nesting; this is the net under it, so that no query text gives a 500.
      if (error instanceof RangeError && /call stack/i.test(error.message)) {
        throw validationError("the query is nested too deeply to translate: flatten it or split it");
      }
      throw error;
    }
  }

  /** Counters of the query limits (see QueryStats). */
  queryStats(): QueryStats {
    return { ...this.counters, waiting: this.slots.waiters };
  }

  /**
   * Runs one DuckDB call of a query within the limits: it waits for a free slot (at most
   * maxConcurrent calls run at once), and is interrupted when the query's time is up or `signal`
   * aborts (the client went away). DuckDB's errors come back as client errors naming the limit.
   */
  private async execute<T>(
    run: QueryRun,
    signal: AbortSignal | undefined,
    work: () => Promise<T>,
  ): Promise<T> {
    if (run.stopReason) throw this.stopError(run.stopReason);
    await this.slots.acquire(signal).catch((error: unknown) => {
      this.counters.cancelled++;
      throw error;
    });
    let repeat: NodeJS.Timeout | undefined;
    const stop = (reason: StopReason) => {
      if (run.stopReason) return;
      run.stopReason = reason;
      run.interrupted = true;
      if (reason === "timeout") this.counters.timedOut++;
      else this.counters.cancelled++;
      run.connection.interrupt();
      // DuckDB clears the flag when a query starts: an interrupt that lands while the call still
      // waits for a thread (or before DuckDB begins executing) is lost, so it is repeated until
      // the call returns.
      repeat = setInterval(() => run.connection.interrupt(), INTERRUPT_REPEAT_MS);
    };
    const remainingMs = this.limits.timeoutMs - run.elapsedMs;
    const timer = setTimeout(() => stop("timeout"), Math.max(0, remainingMs));
    const onAbort = () => stop("cancelled");
    signal?.addEventListener("abort", onAbort, { once: true });
    this.counters.running++;
    run.busy = true;
    run.stop = stop;
    const started = performance.now();
    try {
      const value = await work();
      if (run.stopReason) throw this.stopError(run.stopReason);
      return value;
    } catch (error) {
      if (run.stopReason) throw this.stopError(run.stopReason);
      const message = error instanceof Error ? error.message : String(error);
      const limited = resourceError(message, this.limits);
      if (limited) {
        this.counters.outOfMemory++;
        throw limited;
      }
      throw queryError(error);
    } finally {
      clearTimeout(timer);
      clearInterval(repeat);
      signal?.removeEventListener("abort", onAbort);
      run.busy = false;
      run.stop = undefined;
      run.elapsedMs += performance.now() - started;
      this.counters.running--;
      this.slots.release();
    }
  }

  private stopError(reason: StopReason): HourglassError {
    return reason === "timeout" ? timeoutError(this.limits) : cancelledError();
  }

  /** Timestream's Query: the first page, or the next page of an earlier query by NextToken. */
  async query(input: QueryInput, options: { signal?: AbortSignal } = {}): Promise<QueryResponse> {
    const { signal } = options;
    const maxRows = input.MaxRows;
    if (maxRows !== undefined && (!Number.isInteger(maxRows) || maxRows < 1 || maxRows > 1000)) {
      throw validationError(`MaxRows must be an integer from 1 to 1000, got ${String(maxRows)}`);
    }
    this.expireCursors();
    let cursor: Cursor;
    if (input.NextToken) {
      const lookup = this.pageTokens.resolve(input.NextToken, input.QueryString);
      if (lookup.kind === "replay") return lookup.response;
      const found = this.cursors.get(lookup.cursorId);
      if (!found) throw validationError("NextToken is invalid or has expired: run the query again");
      cursor = found;
    } else {
      const translation = this.translation(input.QueryString);
      if (translation.unload) return this.unload(translation, signal);
      const duckdbSql = translation.duckdbSql;
      const connection = await this.acquireConnection();
      const run: QueryRun = { connection, elapsedMs: 0, busy: false, interrupted: false };
      let result: DuckDBResult;
      try {
        // Arming the limits before stream() matters: DuckDB computes a whole aggregate in it.
        result = await this.execute(run, signal, () => connection.stream(duckdbSql));
      } catch (error) {
        this.releaseConnection(connection, run);
        throw error;
      }
      const names = result.deduplicatedColumnNames();
      const types = result.columnTypes();
      cursor = {
        id: randomUUID(),
        queryId: `AEB${randomUUID().replaceAll("-", "").toUpperCase()}`,
        connection,
        run,
        result,
        columnInfo: columnInfoOf(names, types),
        converters: types.map((t) => datumConverter(t)) as Cursor["converters"],
        buffered: [],
        done: false,
        lastUsedMs: Date.now(),
      };
      this.pageTokens.begin(cursor.id, input.QueryString);
    }
    cursor.lastUsedMs = Date.now();
    const rows: Row[] = [];
    let bytes = 0;
    const limit = maxRows ?? Number.POSITIVE_INFINITY;
    try {
      while (rows.length < limit && (maxRows !== undefined || bytes < DEFAULT_PAGE_BYTES)) {
        if (cursor.buffered.length === 0) {
          if (cursor.done) break;
          const chunk = await this.execute(cursor.run, signal, () => cursor.result.fetchChunk());
          if (!chunk || chunk.rowCount === 0) {
            cursor.done = true;
            break;
          }
          cursor.buffered = chunkRows(chunk, cursor.converters as never, 0, chunk.rowCount);
        }
        const take = Math.min(cursor.buffered.length, limit - rows.length);
        const page = cursor.buffered.splice(0, take);
        if (maxRows === undefined) for (const r of page) bytes += approximateBytes(r);
        rows.push(...page);
      }
      // Peek so that the last page carries no NextToken.
      if (cursor.buffered.length === 0 && !cursor.done) {
        const chunk = await this.execute(cursor.run, signal, () => cursor.result.fetchChunk());
        if (!chunk || chunk.rowCount === 0) cursor.done = true;
        else cursor.buffered = chunkRows(chunk, cursor.converters as never, 0, chunk.rowCount);
      }
    } catch (error) {
      this.closeCursor(cursor);
      throw error instanceof HourglassError ? error : queryError(error);
    }
    const more = cursor.buffered.length > 0 || !cursor.done;
    if (more) this.cursors.set(cursor.id, cursor);
    else this.closeCursor(cursor);
    const page: QueryResponse = {
      QueryId: cursor.queryId,
      ColumnInfo: cursor.columnInfo,
      Rows: rows,
      QueryStatus: {
        ProgressPercentage: more ? 50 : 100,
        CumulativeBytesScanned: 0,
        CumulativeBytesMetered: 0,
      },
    };
    // Each page gets a token of its own, and the page is kept to answer its token again.
    return this.pageTokens.issue(cursor.id, input.NextToken, page, more);
  }

  /** UNLOAD (SELECT …) TO 's3://…': the files go to the lake (unload.ts), within the query limits. */
  private async unload(translation: Translation, signal: AbortSignal | undefined): Promise<QueryResponse> {
    if (!this.lake) {
      throw validationError(
        "UNLOAD needs the lake, and this store was opened without one: run it through `hourglass up` or `hourglass query` in a state folder",
      );
    }
    const connection = await this.acquireConnection();
    const run: QueryRun = { connection, elapsedMs: 0, busy: false, interrupted: false };
    try {
      return await runUnload(
        {
          lake: this.lake,
          queryId: `AEB${randomUUID().replaceAll("-", "").toUpperCase()}`,
          run: (sql) => this.execute(run, signal, () => connection.runAndReadAll(sql)),
        },
        translation.unload!,
        translation.duckdbSql,
      );
    } finally {
      this.releaseConnection(connection, run);
    }
  }

  /** Cancels a paged query (Timestream's CancelQuery). */
  cancelQuery(queryIdOrToken: string): void {
    const fromToken = cursorIdOf(queryIdOrToken);
    for (const cursor of this.cursors.values()) {
      if (cursor.queryId !== queryIdOrToken && cursor.id !== fromToken) continue;
      this.pageTokens.forget(cursor.id);
      // A page being fetched right now is interrupted; its call closes the cursor when it fails.
      if (cursor.run.busy) cursor.run.stop?.("cancelled");
      else this.closeCursor(cursor);
    }
  }

  private closeCursor(cursor: Cursor): void {
    this.cursors.delete(cursor.id);
    if (cursor.released) return; // a connection goes back to the pool once
    cursor.released = true;
    this.releaseConnection(cursor.connection, cursor.run);
  }

  private expireCursors(): void {
    const now = Date.now();
    for (const cursor of this.cursors.values()) {
      // A page being fetched is not idle (its connection must not go back to the pool mid-call).
      if (now - cursor.lastUsedMs > CURSOR_IDLE_MS && !cursor.run.busy) this.closeCursor(cursor);
    }
  }

  /**
   * Runs a query and writes its result to a file inside DuckDB (rows never become JS objects).
   * The caller writes to a temporary path and renames it into place.
   */
  async exportQuery(input: ExportInput, options: { signal?: AbortSignal } = {}): Promise<ExportResult> {
    const { signal } = options;
    const duckdbSql = this.translate(input.query, "an export");
    const connection = await this.acquireConnection();
    const run: QueryRun = { connection, elapsedMs: 0, busy: false, interrupted: false };
    try {
      const described = await this.execute(run, signal, () =>
        connection.runAndReadUntil(`SELECT * FROM (${duckdbSql}) LIMIT 0`, 0),
      );
      const names = described.columnNames();
      const selectList = names.map((n, i) => `q.${quoteIdent(n)} AS c${i}`).join(", ");
      if (input.format === "parquet") {
        const renamed = names.map((n, i) => `c${i} AS ${quoteIdent(n)}`).join(", ");
        const rows = await this.execute(run, signal, () =>
          connection.run(
            `COPY (SELECT ${renamed} FROM (SELECT ${selectList} FROM (${duckdbSql}) q)) TO ${quoteString(input.path)} (FORMAT parquet${input.gzip ? ", COMPRESSION gzip" : ""})`,
          ),
        );
        return { rows: Number(rows.rowsChanged), columns: names };
      }
      // CSV: the header is ours, given to DuckDB as the file's PREFIX, because the leading index
      // column has pandas' empty name (DuckDB refuses an empty identifier). DuckDB requires a
      // SUFFIX with a PREFIX and writes it in place of the last row's newline, so SUFFIX '\n'
      // gives the bytes HEADER would: the rows stream from DuckDB into the file in one pass.
      const index = input.indexColumn ? "(row_number() OVER ()) - 1 AS idx, " : "";
      const headerNames = (input.indexColumn ? [""] : []).concat(names.map(csvField));
      const header = input.header === false ? null : `${headerNames.join(",")}\n`;
      const copyOptions = ["FORMAT csv", "HEADER false"];
      if (header !== null) copyOptions.push(`PREFIX ${quoteString(header)}`, `SUFFIX ${quoteString("\n")}`);
      if (input.gzip) copyOptions.push("COMPRESSION gzip");
      // Errors while the query runs (a failed cast, …) are the query's, as in query().
      const result = await this.execute(run, signal, () =>
        connection.run(
          `COPY (SELECT ${index}${selectList} FROM (${duckdbSql}) q) TO ${quoteString(input.path)} (${copyOptions.join(", ")})`,
        ),
      );
      // No rows: DuckDB still writes the suffix after the header, so the file becomes the header alone.
      if (Number(result.rowsChanged) === 0 && header !== null) {
        fs.writeFileSync(input.path, input.gzip ? gzipSync(header) : header);
      }
      return { rows: Number(result.rowsChanged), columns: names };
    } finally {
      this.releaseConnection(connection, run);
    }
  }

  /**
   * Query connections are kept for reuse: each new one needs the dialect's setup (about 20
   * statements, 8–15 ms), which would otherwise be paid by every query.
   */
  private readonly idleConnections: QueryConnection[] = [];

  private async acquireConnection(): Promise<QueryConnection> {
    return this.idleConnections.pop() ?? (await this.engine.connect(dialectSetupSql));
  }

  private releaseConnection(connection: QueryConnection, run?: QueryRun): void {
    // An interrupted connection is not reused: the interrupt may land after its call finished.
    if (!this.closed && !run?.interrupted && this.idleConnections.length < MAX_IDLE_CONNECTIONS) {
      this.idleConnections.push(connection);
      return;
    }
    try {
      connection.closeSync();
    } catch {
      // already closed
    }
  }

  // ---- retention ---------------------------------------------------------------------------------

  /** Removes points past each table's memory + magnetic retention. Queries already hide them. */
  sweepRetention(): Promise<{ table: string; removed: number }[]> {
    return this.serial(async () => {
      const out: { table: string; removed: number }[] = [];
      for (const table of this.catalog.tables.values()) {
        const cutoff = formatTimestampNs(visibleCutoffNs(table, this.nowNs()));
        const removed = await this.engine.run(
          `DELETE FROM ${pointsTable(table)} WHERE time < TIMESTAMP_NS '${cutoff}'`,
        );
        if (removed > 0) out.push({ table: `${table.database}.${table.name}`, removed });
      }
      if (out.length > 0) await this.engine.run("CHECKPOINT");
      return out;
    });
  }

  /** Forces DuckDB to fold its WAL into the database file. */
  checkpoint(): Promise<void> {
    return this.serial(async () => {
      await this.engine.run("CHECKPOINT");
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue;
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const cursor of [...this.cursors.values()]) this.closeCursor(cursor);
    for (const connection of this.idleConnections.splice(0)) connection.closeSync();
    this.engine.close();
  }
}

/**
 * A table as one relation under its Timestream column names, hiding points past retention. With
 * `measureNames`, only those measures' points, selected by their ids in the catalog without the
 * join to the measure-name table (DuckDB then filters the points scan directly); a name never
 * written has no id and matches nothing.
 */
function tableRelationSql(
  table: TableState,
  cutoff: string,
  measureNames: readonly string[] | undefined,
): string {
  let measureName = "m.measure_name";
  let measureJoin = ` JOIN ${measuresTable(table)} m ON m.measure_id = p._measure_id`;
  let measureFilter = "";
  if (measureNames !== undefined) {
    const known = [...new Set(measureNames)].flatMap((n) => table.measures.get(n) ?? []);
    measureJoin = "";
    if (known.length === 0) {
      measureName = "CAST(NULL AS VARCHAR)";
      measureFilter = " AND FALSE";
    } else if (known.length === 1) {
      measureName = quoteString(known[0]!.name);
      measureFilter = ` AND p._measure_id = ${known[0]!.id}`;
    } else {
      measureName = `CASE p._measure_id ${known.map((m) => `WHEN ${m.id} THEN ${quoteString(m.name)}`).join(" ")} END`;
      measureFilter = ` AND p._measure_id IN (${known.map((m) => m.id).join(", ")})`;
    }
  }
  const select: string[] = table.dimensions.map((d) => `s.${d.column} AS ${quoteIdent(d.name)}`);
  select.push(`${measureName} AS "measure_name"`, `p.time AS "time"`);
  for (const [type, column] of Object.entries(VALUE_COLUMN)) {
    select.push(`p.${column} AS ${quoteIdent(`measure_value::${type.toLowerCase()}`)}`);
  }
  for (const a of table.attributes) select.push(`p.${a.column} AS ${quoteIdent(a.name)}`);
  return `(SELECT ${select.join(", ")} FROM ${pointsTable(table)} p JOIN ${seriesTable(table)} s ON s.series_id = p._series_id${measureJoin} WHERE p.time >= TIMESTAMP_NS '${cutoff}'${measureFilter})`;
}

function approximateBytes(row: Row): number {
  let n = 8;
  for (const d of row.Data) n += d.ScalarValue ? d.ScalarValue.length + 16 : 32;
  return n;
}

function csvField(name: string): string {
  return /[",\n\r]/.test(name) ? `"${name.replaceAll('"', '""')}"` : name;
}

/** DuckDB errors at execution time become validation errors with DuckDB's reason. */
function queryError(error: unknown): HourglassError {
  if (error instanceof HourglassError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // The dialect's own limits raise DuckDB's error() with a complete message of ours.
  const ours = /^Invalid Input Error: (sequence\(\) would produce .*)$/s.exec(message);
  if (ours) {
    return new HourglassError("ValidationError", ours[1]!, {
      cause: error,
      context: { limit: "querySequenceMaxEntries" },
    });
  }
  return new HourglassError("ValidationError", `query failed: ${message}`, { cause: error });
}

/** Timestream's limit on the length of QueryString. */
export const MAX_QUERY_STRING_CHARS = 262_144;

function resolveLimits(options: StoreOptions): QueryLimits {
  const limits: QueryLimits = {
    ...DEFAULT_QUERY_LIMITS,
    ...(options.memoryLimit ? { memoryLimit: options.memoryLimit } : {}),
    ...Object.fromEntries(Object.entries(options.limits ?? {}).filter(([, v]) => v !== undefined)),
  };
  if (
    !Number.isFinite(limits.timeoutMs) ||
    limits.timeoutMs <= 0 ||
    limits.timeoutMs > MAX_QUERY_TIMEOUT_MS
  ) {
    throw validationError(
      `the query time limit must be more than 0 and at most ${MAX_QUERY_TIMEOUT_MS / 1000} s, got ${limits.timeoutMs / 1000} s`,
    );
  }
  if (!Number.isInteger(limits.maxConcurrent) || limits.maxConcurrent < 1) {
    throw validationError(
      `queryMaxConcurrent must be a whole number of at least 1, got ${limits.maxConcurrent}`,
    );
  }
  if (!Number.isInteger(limits.sequenceMaxEntries) || limits.sequenceMaxEntries < 1) {
    throw validationError(
      `querySequenceMaxEntries must be a whole number of at least 1, got ${limits.sequenceMaxEntries}`,
    );
  }
  return limits;
}

/** Empties the spill folder (DuckDB's temp files only, in case a user put something else there). */
function clearTempFolder(folder: string): void {
  if (!fs.existsSync(folder)) return;
  for (const name of fs.readdirSync(folder)) {
    if (name.startsWith("duckdb_temp_")) fs.rmSync(path.join(folder, name), { force: true, recursive: true });
  }
}

/** Each valid record's (series, measure, time): what the Version rules compare. */
function recordKeys(entry: QueuedWrite): Set<string> {
  if (!entry.keys) {
    entry.keys = new Set();
    for (const r of entry.valid!) entry.keys.add(`${r.seriesKey}\u0000${r.measureName}\u0000${r.timeNs}`);
  }
  return entry.keys;
}

/**
 * Data versions: per table and time bucket (an hour by default), the store keeps a version that
 * moves whenever a write lands in the bucket (new records, a higher Version replacing a point, a
 * late record), with how many records landed there in all and when the last write was. Exports
 * record the versions of the buckets they read; a bucket whose version moved since is data the
 * export does not have (docs/store.md, "Data versions"; docs/decisions.md D13).
 *
 * A version is the store-wide commit number of the last write that touched the bucket, so versions
 * only grow and one number per table says "nothing changed since": an export that read version 41
 * is stale once any bucket of its interval has a version above 41. The row of each touched bucket
 * is updated inside the write's own DuckDB transaction, so after kill -9 the versions and the data
 * are both from before a write or both from after it.
 */
import { validationError } from "../errors.js";
import type { Engine } from "./engine.js";

export const DEFAULT_BUCKET_MS = 3_600_000;
const NS_PER_MS = 1_000_000n;

export const DATA_VERSIONS_DDL = `CREATE TABLE IF NOT EXISTS _hg.bucket_versions(table_id INTEGER,
  bucket_start_ns BIGINT, bucket_width_ns BIGINT, version BIGINT, records BIGINT, written_ms BIGINT)`;

export interface DataVersionOptions {
  /** Off: no bucket rows are kept (benchmarks compare against this). Default on. */
  enabled?: boolean;
  /** Width of a bucket in milliseconds (default one hour). */
  bucketMs?: number;
  /** Per table ("database.table") widths in milliseconds, over bucketMs. */
  tableBucketMs?: Readonly<Record<string, number>>;
}

/** One bucket of one table as it stands. */
export interface BucketVersion {
  tableId: number;
  /** Epoch ms of the bucket's start, and its width. */
  startMs: number;
  widthMs: number;
  /** The commit number of the last write that landed in it. */
  version: number;
  /** Records written into it since the table was created (replacements included). */
  records: number;
  /** Store clock of the last write. */
  writtenMs: number;
}

/** Buckets a batch touched: bucket start (ns) -> records written there. */
export type TouchedBuckets = Map<bigint, number>;

/** What one commit changes, applied to the in-memory state only once it committed. */
export interface PendingVersions {
  tableId: number;
  widthNs: bigint;
  version: number;
  added: bigint[];
}

export class DataVersions {
  readonly enabled: boolean;
  readonly #engine: Engine;
  readonly #defaultWidthNs: bigint;
  readonly #tableWidthNs: Map<string, bigint>;
  /** The last commit number handed out (the largest version stored, after a restart). */
  #lastVersion = 0;
  /** Bucket rows that exist: `${tableId}:${widthNs}:${startNs}`. */
  readonly #known = new Set<string>();

  private constructor(engine: Engine, options: DataVersionOptions) {
    this.#engine = engine;
    this.enabled = options.enabled !== false;
    this.#defaultWidthNs = checkWidth(options.bucketMs ?? DEFAULT_BUCKET_MS, "bucketMs");
    this.#tableWidthNs = new Map(
      Object.entries(options.tableBucketMs ?? {}).map(([table, ms]) => [
        table,
        checkWidth(ms, `tableBucketMs[${table}]`),
      ]),
    );
  }

  static async load(engine: Engine, options: DataVersionOptions = {}): Promise<DataVersions> {
    const versions = new DataVersions(engine, options);
    await engine.run(DATA_VERSIONS_DDL);
    const rows = await engine.rows(
      "SELECT table_id, bucket_start_ns::VARCHAR AS s, bucket_width_ns::VARCHAR AS w, version FROM _hg.bucket_versions",
    );
    for (const row of rows) {
      versions.#known.add(`${row["table_id"]}:${row["w"]}:${row["s"]}`);
      versions.#lastVersion = Math.max(versions.#lastVersion, Number(row["version"]));
    }
    return versions;
  }

  widthNs(database: string, table: string): bigint {
    return this.#tableWidthNs.get(`${database}.${table}`) ?? this.#defaultWidthNs;
  }

  /**
   * Counts the written rows per bucket. `times` holds the batch's rows; `skipped` the positions
   * that were not written (no-ops and rejections against stored points). Rows of a batch mostly
   * share a time, so the bucket is computed only when the time changes.
   */
  touched(
    times: BigInt64Array,
    rowCount: number,
    widthNs: bigint,
    skipped?: ReadonlySet<number>,
  ): TouchedBuckets {
    const out: TouchedBuckets = new Map();
    // Each row's time read as two 32-bit words: comparing them allocates nothing, where reading
    // the BigInt64Array allocates a BigInt a row. The bucket is computed when the time changes.
    const words = new Int32Array(times.buffer, times.byteOffset, rowCount * 2);
    let lastLow = 0;
    let lastHigh = 0;
    let started = false;
    let bucket = 0n;
    let count = 0;
    const skips = skipped !== undefined && skipped.size > 0 ? skipped : null;
    for (let p = 0; p < rowCount; p++) {
      if (skips?.has(p)) continue;
      const low = words[2 * p]!;
      const high = words[2 * p + 1]!;
      if (!started || low !== lastLow || high !== lastHigh) {
        const t = times[p]!;
        const next = t - mod(t, widthNs);
        if (started && next !== bucket && count > 0) {
          out.set(bucket, (out.get(bucket) ?? 0) + count);
          count = 0;
        }
        bucket = next;
        lastLow = low;
        lastHigh = high;
        started = true;
      }
      count++;
    }
    if (count > 0) out.set(bucket, (out.get(bucket) ?? 0) + count);
    return out;
  }

  /**
   * Moves the versions of the touched buckets, inside the caller's open transaction: one row per
   * bucket (an UPDATE, or an INSERT for a bucket's first write). Returns what to apply once the
   * transaction committed (`committed`), or null when nothing was touched.
   */
  async record(
    tableId: number,
    widthNs: bigint,
    touched: TouchedBuckets,
    nowMs: number,
  ): Promise<PendingVersions | null> {
    if (!this.enabled || touched.size === 0) return null;
    const version = this.#lastVersion + 1;
    const added: bigint[] = [];
    const inserts: string[] = [];
    for (const [startNs, records] of touched) {
      if (this.#known.has(`${tableId}:${widthNs}:${startNs}`)) {
        await this.#engine.run(
          `UPDATE _hg.bucket_versions SET version = ${version}, records = records + ${records}, written_ms = ${nowMs}
            WHERE table_id = ${tableId} AND bucket_width_ns = ${widthNs} AND bucket_start_ns = ${startNs}`,
        );
      } else {
        added.push(startNs);
        inserts.push(`(${tableId}, ${startNs}, ${widthNs}, ${version}, ${records}, ${nowMs})`);
      }
    }
    if (inserts.length > 0)
      await this.#engine.run(`INSERT INTO _hg.bucket_versions VALUES ${inserts.join(", ")}`);
    return { tableId, widthNs, version, added };
  }

  /** After COMMIT: the commit number is used, the new bucket rows exist. */
  committed(pending: PendingVersions | null): void {
    if (pending === null) return;
    this.#lastVersion = Math.max(this.#lastVersion, pending.version);
    for (const startNs of pending.added) this.#known.add(`${pending.tableId}:${pending.widthNs}:${startNs}`);
  }

  /** The buckets of these tables overlapping [fromMs, toMs), as they stand now. */
  async read(
    tableIds: readonly number[],
    fromMs: number,
    toMs: number,
    connection?: Parameters<Engine["rows"]>[1],
  ): Promise<BucketVersion[]> {
    if (tableIds.length === 0 || !(toMs > fromMs)) return [];
    const fromNs = BigInt(Math.floor(fromMs)) * NS_PER_MS;
    const toNs = BigInt(Math.ceil(toMs)) * NS_PER_MS;
    const rows = await this.#engine.rows(
      `SELECT table_id, (bucket_start_ns // 1000000)::BIGINT AS start_ms, (bucket_width_ns // 1000000)::BIGINT AS width_ms,
              version, records, written_ms
         FROM _hg.bucket_versions
        WHERE table_id IN (${tableIds.map((id) => Number(id)).join(", ")})
          AND bucket_start_ns < ${toNs} AND bucket_start_ns + bucket_width_ns > ${fromNs}
        ORDER BY table_id, bucket_start_ns`,
      connection,
    );
    return rows.map((row) => ({
      tableId: Number(row["table_id"]),
      startMs: Number(row["start_ms"]),
      widthMs: Number(row["width_ms"]),
      version: Number(row["version"]),
      records: Number(row["records"]),
      writtenMs: Number(row["written_ms"]),
    }));
  }

  /** Inside the transaction that drops a table: its bucket rows go too. */
  async dropTable(tableId: number): Promise<void> {
    await this.#engine.run(`DELETE FROM _hg.bucket_versions WHERE table_id = ${tableId}`);
  }

  forgetTable(tableId: number): void {
    for (const key of [...this.#known]) if (key.startsWith(`${tableId}:`)) this.#known.delete(key);
  }
}

/** The non-negative remainder (times before 1970 still fall into the bucket that starts before them). */
function mod(a: bigint, b: bigint): bigint {
  const r = a % b;
  return r < 0n ? r + b : r;
}

function checkWidth(ms: number, name: string): bigint {
  if (!Number.isSafeInteger(ms) || ms < 1000 || ms > 366 * 86_400_000) {
    throw validationError(
      `data versions: ${name} must be a whole number of milliseconds from 1000 (1 s) to one year, got ${ms}`,
    );
  }
  return BigInt(ms) * NS_PER_MS;
}

/**
 * The export ledger: one row per export (written or skipped as empty), with the data versions it
 * read. The manifest beside each file holds the same facts; the ledger holds them in one table so
 * that a year of hourly exports is judged with one query rather than 8,760 manifest reads.
 * Rows are only added; the latest row of a (DAG, task, interval) is the export that counts.
 */
import type { Engine } from "./engine.js";
import { quoteString } from "./engine.js";

const LEDGER_DDL = `CREATE TABLE IF NOT EXISTS _hg.export_ledger(seq BIGINT, dag_id VARCHAR, task_id VARCHAR,
  interval_start_ms BIGINT, interval_end_ms BIGINT, run_id VARCHAR, try_number INTEGER, code_version VARCHAR,
  bucket VARCHAR, key VARCHAR, written BOOLEAN, rows BIGINT, written_ms BIGINT, reads VARCHAR)`;

/** What an export read of one table: the highest bucket version and the records in its buckets. */
export interface TableRead {
  tableId: number;
  /** "database.table". */
  table: string;
  /** The highest version among the buckets overlapping the interval (0: none had data). */
  version: number;
  /** Records in those buckets (all writes since the table was created). */
  records: number;
}

export interface ExportRecord {
  dagId: string;
  taskId: string;
  intervalStartMs: number;
  intervalEndMs: number;
  runId: string;
  tryNumber: number;
  codeVersion: string | null;
  bucket: string;
  key: string;
  /** False: the result was empty and nothing was written (emptyResult "skip"). */
  written: boolean;
  rows: number;
  writtenMs: number;
  reads: TableRead[];
}

export class ExportLedger {
  readonly #engine: Engine;
  #lastSeq = 0;

  private constructor(engine: Engine) {
    this.#engine = engine;
  }

  static async load(engine: Engine): Promise<ExportLedger> {
    await engine.run(LEDGER_DDL);
    const ledger = new ExportLedger(engine);
    const rows = await engine.rows("SELECT coalesce(max(seq), 0) AS seq FROM _hg.export_ledger");
    ledger.#lastSeq = Number(rows[0]?.["seq"] ?? 0);
    return ledger;
  }

  /** Call from the store's serial writer. */
  async append(record: ExportRecord): Promise<void> {
    const seq = this.#lastSeq + 1;
    const text = (value: string | null) => (value === null ? "NULL" : quoteString(value));
    await this.#engine.run(
      `INSERT INTO _hg.export_ledger VALUES (${seq}, ${text(record.dagId)}, ${text(record.taskId)},
        ${Math.trunc(record.intervalStartMs)}, ${Math.trunc(record.intervalEndMs)}, ${text(record.runId)},
        ${Math.trunc(record.tryNumber)}, ${text(record.codeVersion)}, ${text(record.bucket)}, ${text(record.key)},
        ${record.written}, ${Math.trunc(record.rows)}, ${Math.trunc(record.writtenMs)}, ${text(JSON.stringify(record.reads))})`,
    );
    this.#lastSeq = seq;
  }

  /** The latest export of each (task, interval) of a DAG whose interval starts in [fromMs, toMs). */
  async latest(
    dagId: string,
    fromMs: number,
    toMs: number,
    connection?: Parameters<Engine["rows"]>[1],
  ): Promise<ExportRecord[]> {
    const rows = await this.#engine.rows(
      `SELECT task_id, interval_start_ms, interval_end_ms, run_id, try_number, code_version, bucket, key, written,
              rows, written_ms, reads
         FROM _hg.export_ledger
        WHERE dag_id = ${quoteString(dagId)} AND interval_start_ms >= ${Math.trunc(fromMs)} AND interval_start_ms < ${Math.trunc(toMs)}
        QUALIFY row_number() OVER (PARTITION BY task_id, interval_start_ms, interval_end_ms ORDER BY seq DESC) = 1
        ORDER BY interval_start_ms, task_id`,
      connection,
    );
    return rows.map((row) => ({
      dagId,
      taskId: String(row["task_id"]),
      intervalStartMs: Number(row["interval_start_ms"]),
      intervalEndMs: Number(row["interval_end_ms"]),
      runId: String(row["run_id"]),
      tryNumber: Number(row["try_number"]),
      codeVersion: row["code_version"] === null ? null : String(row["code_version"]),
      bucket: String(row["bucket"]),
      key: String(row["key"]),
      written: row["written"] === true,
      rows: Number(row["rows"]),
      writtenMs: Number(row["written_ms"]),
      reads: JSON.parse(String(row["reads"])) as TableRead[],
    }));
  }
}

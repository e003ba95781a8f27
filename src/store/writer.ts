/**
 * The write path: validated records of one table become one DuckDB transaction.
 *
 * Records go to a narrow staging table through DuckDB's appender (numbers only, except VARCHAR
 * values), are checked against existing points for Timestream's Version rules with one join, then
 * copied into the points table. New series, measures and columns are added in the same
 * transaction, so a crash leaves either all of a batch or none of it.
 */
import { HourglassError } from "../errors.js";
import type { RowBatch } from "./batch.js";
import {
  type AttributeColumn,
  type DimensionColumn,
  DUCK_TYPE,
  measuresTableName,
  pointsTable,
  pointsTableName,
  seriesTable,
  seriesTableName,
  type TableState,
  VALUE_COLUMN,
  visibleCutoffNs,
} from "./catalog.js";
import type { DataVersions, PendingVersions } from "./data-versions.js";
import type { AppendColumn, Engine } from "./engine.js";
import { MAX_DIMENSIONS_PER_TABLE, printable, type ScalarValue } from "./records.js";
import type { Dimension, RejectedRecord, ScalarMeasureValueType, WriteResult } from "./types.js";

const FUTURE_LIMIT_NS = 15n * 60n * 1_000_000_000n;
const NS_PER_HOUR = 3_600_000_000_000n;
/** Series and measure ids combine into one safe integer: measure ids stay below 2^20. */
const MEASURE_ID_SPAN = 1_048_576;
/** Shared empty lists: most records bring no new dimension or attribute, and allocate nothing. */
const NONE: string[] = [];
const NONE_ATTRIBUTES: { name: string; type: ScalarMeasureValueType }[] = [];

/** Schema additions a batch makes; applied to the in-memory catalog only after commit. */
interface PendingChanges {
  dimensions: DimensionColumn[];
  attributes: AttributeColumn[];
  series: Map<string, { id: number; dimensions: Dimension[] }>;
  measures: Map<string, number>;
  measureInfo: { measureId: number; kind: "type" | "dimension"; value: string }[];
  valueTypes: Set<ScalarMeasureValueType>;
}

function formatWindowTime(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

export class TableWriter {
  constructor(
    private readonly engine: Engine,
    /** Bucket versions moved in each write's transaction (absent: none kept). */
    private readonly versions?: DataVersions,
  ) {}

  /** Writes one batch to one table. Call only from the store's serial write queue. */
  async write(
    table: TableState,
    batch: RowBatch,
    rejected: RejectedRecord[],
    nowNs: bigint,
    countMagnetic?: (recordIndex: number) => void,
  ): Promise<WriteResult> {
    const rejectedBefore = rejected.length; // the caller's own rejections (invalid records)
    const memoryCutoff = nowNs - BigInt(table.memoryHours) * NS_PER_HOUR;
    const visibleCutoff = visibleCutoffNs(table, nowNs);
    const futureLimit = nowNs + FUTURE_LIMIT_NS;
    const pending: PendingChanges = {
      dimensions: [],
      attributes: [],
      series: new Map(),
      measures: new Map(),
      measureInfo: [],
      valueTypes: new Set(),
    };
    let nextDimension = table.dimensions.length;
    let nextAttribute = table.attributes.length;
    let nextSeriesId = table.nextSeriesId;
    let nextMeasureId = table.measures.size + 1;
    const pendingMeasureTypes = new Set<string>();
    const pendingMeasureDims = new Set<string>();
    const pendingCombos: SeenPairs = new Map();
    /** Types given to measure names this batch introduces (the first accepted row's). */
    const pendingMeasureType = new Map<string, string>();
    /** Per batch measure: why its rows are refused (a type change), null when they are not. */
    const measureVerdicts: (string | null | undefined)[] = new Array(batch.measures.length);
    const { rows, recordIndex, seriesOf, measureOf, timeNs, version, values, attributes } = batch;

    // Each series and measure of the batch is resolved to its id on its first accepted row (a
    // series whose rows are all rejected changes nothing in the table). UNRESOLVED: not yet seen.
    const UNRESOLVED = -1;
    const batchSeriesIds = new Int32Array(batch.series.length).fill(UNRESOLVED);
    const batchMeasureIds = new Int32Array(batch.measures.length).fill(UNRESOLVED);

    // Each row's series and measure id; -1 for a rejected row.
    const rowSeries = new Int32Array(rows);
    const rowMeasure = new Int32Array(rows).fill(-1);
    const lowerLimit = table.magneticWrites ? visibleCutoff : memoryCutoff;
    let lastTime = -1n;
    let lastTimeInWindow = false;
    let singleTime = true;
    const reject = (row: number, reason: string, existingVersion?: number) => {
      rejected.push({
        RecordIndex: recordIndex[row]!,
        Reason: reason,
        ...(existingVersion === undefined ? {} : { ExistingVersion: existingVersion }),
      });
    };

    for (let i = 0; i < rows; i++) {
      // The ingestion window: Timestream refuses the future beyond 15 minutes, and the past beyond
      // the memory store unless magnetic writes are on (then back to the magnetic retention).
      // Rows of a batch mostly share one time, so the verdict is reused.
      const t = timeNs[i]!;
      if (t !== lastTime) {
        if (i > 0) singleTime = false;
        lastTime = t;
        lastTimeInWindow = t < futureLimit && t >= lowerLimit;
      }
      if (!lastTimeInWindow) {
        reject(
          i,
          `The record timestamp ${formatWindowTime(t)} is outside the time range [${formatWindowTime(lowerLimit)}, ${formatWindowTime(futureLimit)}) of the data ingestion window.`,
        );
        continue;
      }
      const s = seriesOf[i]!;
      let seriesId = batchSeriesIds[s]!;
      let newDimensions: string[] = NONE;
      let problem: string | null = null;
      const series = batch.series[s]!;
      if (seriesId === UNRESOLVED) {
        // A known series brings no new dimension; only a new one is checked against the table's limits.
        const known = table.series.get(series.key) ?? pending.series.get(series.key)?.id;
        if (known !== undefined) {
          seriesId = known;
          batchSeriesIds[s] = known;
        } else {
          newDimensions = [];
          for (const d of series.dimensions) {
            if (table.dimensionByName.has(d.Name) || pending.dimensions.some((p) => p.name === d.Name))
              continue;
            problem = columnClash(table, pending, d.Name, "Dimension");
            if (problem) break;
            newDimensions.push(d.Name);
          }
          if (!problem && nextDimension + newDimensions.length > MAX_DIMENSIONS_PER_TABLE) {
            problem = `The table would have more than ${MAX_DIMENSIONS_PER_TABLE} dimensions`;
          }
        }
      }
      let newAttributes: { name: string; type: ScalarMeasureValueType }[] = NONE_ATTRIBUTES;
      const rowAttributes = attributes?.[i] ?? null;
      if (!problem && rowAttributes) {
        newAttributes = [];
        for (const a of rowAttributes) {
          const existing =
            table.attributeByName.get(a.name) ?? pending.attributes.find((p) => p.name === a.name);
          if (existing) {
            if (existing.type !== a.type) {
              problem = `Measure ${printable(a.name)} has type ${existing.type} in this table; got ${a.type}: a column's data type cannot change`;
              break;
            }
            continue;
          }
          problem = columnClash(table, pending, a.name, "Measure");
          if (problem) break;
          newAttributes.push({ name: a.name, type: a.type });
        }
      }
      // A measure name keeps the type it was first written with (Timestream fixes it on first
      // ingestion); judged once per distinct (name, type) of the batch.
      const m = measureOf[i]!;
      if (!problem) {
        let verdict = measureVerdicts[m];
        if (verdict === undefined) {
          const measure = batch.measures[m]!;
          verdict = measureTypeProblem(table, pendingMeasureType, measure);
          // Settled once the name has a type (stored, or from an accepted row of this batch).
          if (verdict !== null || (table.measures.get(measure.name)?.types.size ?? 0) > 0)
            measureVerdicts[m] = verdict;
          else if (pendingMeasureType.get(measure.name) === measure.type) measureVerdicts[m] = null;
        }
        problem = verdict;
      }
      if (problem) {
        reject(i, problem);
        continue;
      }
      for (const name of newDimensions) pending.dimensions.push({ name, column: `d${nextDimension++}` });
      for (const a of newAttributes) pending.attributes.push({ ...a, column: `a${nextAttribute++}` });
      if (seriesId === UNRESOLVED) {
        seriesId = nextSeriesId++;
        batchSeriesIds[s] = seriesId;
        pending.series.set(series.key, { id: seriesId, dimensions: series.dimensions });
      }

      const measure = batch.measures[m]!;
      let measureId = batchMeasureIds[m]!;
      if (measureId === UNRESOLVED) {
        measureId = table.measures.get(measure.name)?.id ?? pending.measures.get(measure.name) ?? UNRESOLVED;
        if (measureId === UNRESOLVED) {
          measureId = nextMeasureId++;
          pending.measures.set(measure.name, measureId);
        }
        if (!pendingMeasureType.has(measure.name)) pendingMeasureType.set(measure.name, measure.type);
        batchMeasureIds[m] = measureId;
        if (measure.type !== "MULTI" && !table.valueTypes.has(measure.type))
          pending.valueTypes.add(measure.type);
      }
      // Which types and dimensions each measure has (for SHOW MEASURES), checked once per series.
      if (
        !seenBefore(table.seenSeriesMeasures, measureId, seriesId) &&
        !seenBefore(pendingCombos, measureId, seriesId)
      ) {
        markSeen(pendingCombos, measureId, seriesId);
        const stored = table.measures.get(measure.name);
        const typeKey = `${measureId}\u0000${measure.type}`;
        if (!stored?.types.has(measure.type) && !pendingMeasureTypes.has(typeKey)) {
          pendingMeasureTypes.add(typeKey);
          pending.measureInfo.push({ measureId, kind: "type", value: measure.type });
        }
        for (const d of series.dimensions) {
          if (stored?.dimensions.has(d.Name)) continue;
          const dimKey = `${measureId}\u0000${d.Name}`;
          if (pendingMeasureDims.has(dimKey)) continue;
          pendingMeasureDims.add(dimKey);
          pending.measureInfo.push({ measureId, kind: "dimension", value: d.Name });
        }
      }
      rowSeries[i] = seriesId;
      rowMeasure[i] = measureId;
    }

    // Duplicates inside the batch follow the same Version rules as against stored data: the first
    // occurrence stands as "existing" for later ones. Keys that fit in a small integer hash much
    // faster: a tight span when the ids allow it.
    const span = nextMeasureId < 1024 && nextSeriesId < 1 << 20 ? 1024 : MEASURE_ID_SPAN;
    const byTime = new Map<bigint, Map<number, number>>(); // time -> series/measure combo -> row
    const oneTime = singleTime ? new Map<number, number>() : null;
    const dropped = new Uint8Array(rows); // 1: a no-op, 2: rejected
    let atTime: Map<number, number> | undefined = oneTime ?? undefined;
    let atTimeKey = -1n;
    for (let i = 0; i < rows; i++) {
      if (rowMeasure[i] === -1) {
        dropped[i] = 2;
        continue;
      }
      if (!oneTime && timeNs[i] !== atTimeKey) {
        atTimeKey = timeNs[i]!;
        atTime = byTime.get(atTimeKey);
        if (!atTime) {
          atTime = new Map();
          byTime.set(atTimeKey, atTime);
        }
      }
      const key = rowSeries[i]! * span + rowMeasure[i]!;
      const earlier = atTime!.get(key);
      if (earlier === undefined) {
        atTime!.set(key, i);
      } else if (version[i]! > version[earlier]!) {
        dropped[earlier] = 1;
        atTime!.set(key, i);
      } else if (sameRowValue(batch, earlier, i)) {
        dropped[i] = 1; // an identical record again: a no-op that still counts as ingested
      } else {
        reject(
          i,
          "A record with the same dimensions, time and measure name already exists with a different value; send a higher Version to update it.",
          Number(version[earlier]!),
        );
        dropped[i] = 2;
      }
    }
    let ingestedNoOp = 0;
    let kept = 0;
    for (let i = 0; i < rows; i++) {
      if (dropped[i] === 0) kept++;
      else if (dropped[i] === 1) ingestedNoOp++;
    }

    const result: WriteResult = {
      RecordsIngested: { Total: 0, MemoryStore: 0, MagneticStore: 0 },
      rejected,
    };
    if (kept === 0) {
      result.RecordsIngested.Total = ingestedNoOp;
      result.RecordsIngested.MemoryStore = ingestedNoOp;
      return result;
    }

    // The batch as columns in the points table's shape: typed arrays that DuckDB's vectors take
    // with one copy per 2,048 rows. Only the value columns this batch uses are filled.
    const rowCount = kept;
    const filled = new Map<string, ValueColumn>();
    const attributeColumn = (name: string): AttributeColumn =>
      (table.attributeByName.get(name) ?? pending.attributes.find((p) => p.name === name))!;
    const columnFor = (column: string, type: ScalarMeasureValueType): ValueColumn => {
      let values = filled.get(column);
      if (!values) {
        values = new ValueColumn(column, type, rowCount);
        filled.set(column, values);
      }
      return values;
    };
    // Each batch measure's value column (single-measure measures), found on its first row.
    const measureColumn: (ValueColumn | undefined)[] = new Array(batch.measures.length);
    const times = new BigInt64Array(rowCount);
    const stagedSeries = new Int32Array(rowCount);
    const stagedMeasures = new Int32Array(rowCount);
    const versions = new BigInt64Array(rowCount);
    /** The batch row behind each staged position. */
    const stagedRow = new Int32Array(rowCount);
    let minTime = 0n;
    let maxTime = 0n;
    let magnetic = 0;
    lastTime = -1n;
    let p = 0;
    for (let i = 0; i < rows; i++) {
      if (dropped[i] !== 0) continue;
      const t = timeNs[i]!;
      if (t !== lastTime) {
        if (p === 0 || t < minTime) minTime = t;
        if (p === 0 || t > maxTime) maxTime = t;
        lastTime = t;
      }
      if (t < memoryCutoff) magnetic++;
      times[p] = t;
      versions[p] = version[i]!;
      stagedSeries[p] = rowSeries[i]!;
      stagedMeasures[p] = rowMeasure[i]!;
      stagedRow[p] = i;
      const rowAttributes = attributes?.[i] ?? null;
      if (rowAttributes) {
        for (const a of rowAttributes) {
          const column = attributeColumn(a.name);
          columnFor(column.column, column.type).set(p, a.value);
        }
      } else {
        const m = measureOf[i]!;
        let column = measureColumn[m];
        if (column === undefined) {
          const type = batch.measures[m]!.type as ScalarMeasureValueType;
          column = columnFor(VALUE_COLUMN[type], type);
          measureColumn[m] = column;
        }
        column.set(p, values[i]!);
      }
      p++;
    }
    const filledColumns = [...filled.values()];

    const engine = this.engine;
    const rejectedPositions = new Set<number>();
    /** Positions not written (no-ops and rejections against stored points): they move no bucket. */
    const skippedPositions = new Set<number>();
    let versionChange: PendingVersions | null = null;
    try {
      // Data mostly arrives in time order: a batch entirely after the newest stored point cannot
      // clash with anything stored, so its rows go straight into the points table.
      const newestStored = await this.newestTime(table);
      if (newestStored === null || minTime > newestStored) {
        await engine.run("BEGIN TRANSACTION");
        await this.applySchemaChanges(table, pending);
        // Every column of the points table, in its physical order; those this batch leaves empty are NULL.
        const attributes = [...table.attributes, ...pending.attributes].sort(
          (a, b) => Number(a.column.slice(1)) - Number(b.column.slice(1)),
        );
        const valueColumns = [...Object.values(VALUE_COLUMN), ...attributes.map((a) => a.column)];
        await engine.appendRows(
          { table: pointsTableName(table), schema: "_hg" },
          [
            { kind: "fixed", values: times, valid: null },
            { kind: "fixed", values: stagedSeries, valid: null },
            { kind: "fixed", values: stagedMeasures, valid: null },
            { kind: "fixed", values: versions, valid: null },
            ...valueColumns.map((name) => filled.get(name)?.toAppend() ?? { kind: "null" as const }),
          ],
          rowCount,
        );
      } else {
        await this.writeAfterCheck(table, pending, {
          times,
          seriesIds: stagedSeries,
          measureIds: stagedMeasures,
          versions,
          filledColumns,
          minTime,
          maxTime,
          onConflict: (position, existing, same) => {
            const row = stagedRow[position]!;
            if (version[row]! > existing) return "replace";
            skippedPositions.add(position);
            if (same) return "skip";
            rejectedPositions.add(position);
            reject(
              row,
              "A record with the same dimensions, time and measure name already exists with a different value; send a higher Version to update it.",
              Number(existing),
            );
            return "skip";
          },
        });
      }
      // A record rejected against a stored one must change nothing, not even the schema: when the
      // batch added columns, it is written again without the rejected records (a rare path).
      if (
        rejectedPositions.size > 0 &&
        (pending.attributes.length > 0 || pending.dimensions.length > 0 || pending.valueTypes.size > 0)
      ) {
        await engine.run("ROLLBACK");
        const rejectedRows = new Set([...rejectedPositions].map((position) => stagedRow[position]!));
        // Every other row is judged again: one refused for a column that a record rejected against
        // stored data would have added (a type clash) may be accepted now. The rejections against
        // stored points were the last ones made; those made before them are made again.
        const storedRejections = rejected.slice(rejected.length - rejectedPositions.size);
        rejected.length = rejectedBefore;
        rejected.push(...storedRejections);
        const keep: number[] = [];
        for (let i = 0; i < rows; i++) if (!rejectedRows.has(i)) keep.push(i);
        return this.write(table, selectRows(batch, keep), rejected, nowNs, countMagnetic);
      }
      if (this.versions?.enabled) {
        const widthNs = this.versions.widthNs(table.database, table.name);
        const touched = this.versions.touched(times, rowCount, widthNs, skippedPositions);
        versionChange = await this.versions.record(table.id, widthNs, touched, Number(nowNs / 1_000_000n));
      }
      await engine.run("COMMIT");
      this.versions?.committed(versionChange);
      // A grouped write (see the store's group commit) needs the magnetic count per request: the
      // rows counted below, by their record index.
      if (countMagnetic) {
        for (let position = 0; position < rowCount; position++) {
          if (times[position]! < memoryCutoff && !rejectedPositions.has(position))
            countMagnetic(recordIndex[stagedRow[position]!]!);
        }
      }

      for (const position of rejectedPositions) if (times[position]! < memoryCutoff) magnetic--;
      const memory = ingestedNoOp + rowCount - rejectedPositions.size - magnetic;
      result.RecordsIngested = { Total: memory + magnetic, MemoryStore: memory, MagneticStore: magnetic };
    } catch (error) {
      await engine.run("ROLLBACK").catch(() => undefined);
      throw new HourglassError(
        "Internal",
        `writing to ${table.database}.${table.name} failed: ${String(error)}`,
        {
          cause: error,
          retryable: true,
        },
      );
    }
    commitPending(table, pending, nextSeriesId);
    const newest = this.newestTimes.get(table.id);
    if (newest === undefined || newest === null || maxTime > newest) this.newestTimes.set(table.id, maxTime);
    for (const [measureId, seen] of pendingCombos) {
      for (let seriesId = 0; seriesId < seen.length; seriesId++) {
        if (seen[seriesId]) markSeen(table.seenSeriesMeasures, measureId, seriesId);
      }
    }
    return result;
  }

  /**
   * The path for a batch that may meet stored points: its rows go to a staging table, one join
   * finds the stored points with the same series, measure and time, and Timestream's Version
   * rules decide each (`onConflict`): a higher version replaces the stored point, the same value is
   * a no-op, a different value is rejected. Leaves the transaction open for the caller to commit.
   */
  private async writeAfterCheck(
    table: TableState,
    pending: PendingChanges,
    batch: {
      times: BigInt64Array;
      seriesIds: Int32Array;
      measureIds: Int32Array;
      versions: BigInt64Array;
      filledColumns: ValueColumn[];
      minTime: bigint;
      maxTime: bigint;
      onConflict: (position: number, existingVersion: bigint, sameValue: boolean) => "replace" | "skip";
    },
  ): Promise<void> {
    const engine = this.engine;
    const stageName = `stage_t${table.id}`;
    const valueColumns = batch.filledColumns.map((c) => c.column);
    // A fresh staging table a batch, committed before the transaction: its rowids are then the
    // positions in the batch (rows appended inside a transaction get provisional rowids).
    await engine.run(
      `CREATE OR REPLACE TEMP TABLE ${stageName}(time TIMESTAMP_NS, _series_id INTEGER, _measure_id INTEGER, _version BIGINT${batch.filledColumns
        .map((c) => `, ${c.column} ${DUCK_TYPE[c.type]}`)
        .join("")})`,
    );
    await engine.appendRows(
      { table: stageName, schema: "main", catalog: "temp" },
      [
        { kind: "fixed", values: batch.times, valid: null },
        { kind: "fixed", values: batch.seriesIds, valid: null },
        { kind: "fixed", values: batch.measureIds, valid: null },
        { kind: "fixed", values: batch.versions, valid: null },
        ...batch.filledColumns.map((c) => c.toAppend()),
      ],
      batch.times.length,
    );
    await engine.run("BEGIN TRANSACTION");
    await this.applySchemaChanges(table, pending);
    const stage = `temp.${stageName}`;
    const points = pointsTable(table);
    const timeRange = `p.time BETWEEN make_timestamp_ns(${batch.minTime}) AND make_timestamp_ns(${batch.maxTime})`;
    const filled = new Set(valueColumns);
    const sameValue = [
      ...Object.values(VALUE_COLUMN),
      ...table.attributes.map((a) => a.column),
      ...pending.attributes.map((a) => a.column),
    ]
      .map((column) =>
        filled.has(column) ? `s.${column} IS NOT DISTINCT FROM p.${column}` : `p.${column} IS NULL`,
      )
      .join(" AND ");
    const conflicts = await engine.rows(
      `SELECT s.rowid AS row_idx, p._version AS existing_version, (${sameValue}) AS same
         FROM ${stage} s JOIN ${points} p
           ON p._series_id = s._series_id AND p._measure_id = s._measure_id AND p.time = s.time
         WHERE ${timeRange}`,
    );
    const skip: number[] = [];
    const replace: number[] = [];
    for (const c of conflicts) {
      const position = Number(c["row_idx"]);
      const verdict = batch.onConflict(position, BigInt(String(c["existing_version"])), c["same"] === true);
      (verdict === "replace" ? replace : skip).push(position);
    }
    if (skip.length > 0) await engine.run(`DELETE FROM ${stage} WHERE rowid IN (${skip.join(",")})`);
    if (replace.length > 0) {
      await engine.run(
        `DELETE FROM ${points} p USING ${stage} s
         WHERE s.rowid IN (${replace.join(",")}) AND p._series_id = s._series_id AND p._measure_id = s._measure_id
           AND p.time = s.time AND ${timeRange}`,
      );
    }
    const columns = ["time", "_series_id", "_measure_id", "_version", ...valueColumns].join(", ");
    await engine.run(`INSERT INTO ${points} (${columns}) SELECT ${columns} FROM ${stage}`);
  }

  /** The newest point time of each table (null: empty), learned once per process, then kept up to date. */
  private readonly newestTimes = new Map<number, bigint | null>();

  private async newestTime(table: TableState): Promise<bigint | null> {
    if (!this.newestTimes.has(table.id)) {
      const rows = await this.engine.rows(
        `SELECT epoch_ns(max(time))::VARCHAR AS t FROM ${pointsTable(table)}`,
      );
      const t = rows[0]?.["t"];
      this.newestTimes.set(table.id, t === null || t === undefined ? null : BigInt(String(t)));
    }
    return this.newestTimes.get(table.id) ?? null;
  }

  /** Forgets what is cached about a table that was deleted. */
  forgetTable(tableId: number): void {
    this.newestTimes.delete(tableId);
  }

  private async applySchemaChanges(table: TableState, pending: PendingChanges): Promise<void> {
    const engine = this.engine;
    // Names travel as bound parameters, never inside SQL text; physical column names (d3, a7)
    // and types are the store's own.
    for (const d of pending.dimensions) {
      await engine.run(`ALTER TABLE ${seriesTable(table)} ADD COLUMN ${d.column} VARCHAR`);
      await engine.runWith("INSERT INTO _hg.columns VALUES ($1, 'dimension', $2, $3, 'VARCHAR')", [
        table.id,
        d.name,
        d.column,
      ]);
    }
    for (const a of pending.attributes) {
      await engine.run(`ALTER TABLE ${pointsTable(table)} ADD COLUMN ${a.column} ${DUCK_TYPE[a.type]}`);
      await engine.runWith("INSERT INTO _hg.columns VALUES ($1, 'attribute', $2, $3, $4)", [
        table.id,
        a.name,
        a.column,
        a.type,
      ]);
    }
    for (const type of pending.valueTypes) {
      await engine.run(`INSERT INTO _hg.columns VALUES (${table.id}, 'value', '', '', '${type}')`);
    }
    if (pending.series.size > 0) {
      // New series go in through the appender: every dimension column of the series table, in
      // its physical order (d0, d1, … as they were added), NULL where a series lacks it. (A first
      // batch of the seed's fleet brings 2,200 series; an INSERT … VALUES that long is mostly parsing.)
      const dimensionColumns = [...table.dimensions, ...pending.dimensions].sort(
        (a, b) => Number(a.column.slice(1)) - Number(b.column.slice(1)),
      );
      const position = new Map(dimensionColumns.map((d, i) => [d.name, i]));
      const rows = [...pending.series.values()];
      const ids = new Int32Array(rows.length);
      const values = dimensionColumns.map(() => new Array<string | null>(rows.length).fill(null));
      for (let r = 0; r < rows.length; r++) {
        ids[r] = rows[r]!.id;
        for (const d of rows[r]!.dimensions) values[position.get(d.Name)!]![r] = d.Value;
      }
      await engine.appendRows(
        { table: seriesTableName(table), schema: "_hg" },
        [
          { kind: "fixed", values: ids, valid: null },
          ...values.map((v) => ({ kind: "strings" as const, values: v })),
        ],
        rows.length,
      );
    }
    if (pending.measures.size > 0) {
      const measures = [...pending.measures];
      await engine.appendRows(
        { table: measuresTableName(table), schema: "_hg" },
        [
          { kind: "fixed", values: Int32Array.from(measures, ([, id]) => id), valid: null },
          { kind: "strings", values: measures.map(([name]) => name) },
        ],
        measures.length,
      );
    }
    if (pending.measureInfo.length > 0) {
      const info = pending.measureInfo;
      await engine.appendRows(
        { table: "measure_info", schema: "_hg" },
        [
          { kind: "fixed", values: new Int32Array(info.length).fill(table.id), valid: null },
          { kind: "fixed", values: Int32Array.from(info, (m) => m.measureId), valid: null },
          { kind: "strings", values: info.map((m) => m.kind) },
          { kind: "strings", values: info.map((m) => m.value) },
        ],
        info.length,
      );
    }
  }
}

/** One value column of a batch, held as the typed array DuckDB's vector of its type takes. */
class ValueColumn {
  readonly values: Float64Array | BigInt64Array | Uint8Array | (string | null)[];
  /** 1 where a row has a value; the others are NULL. */
  private readonly valid: Uint8Array;
  private count = 0;

  constructor(
    readonly column: string,
    readonly type: ScalarMeasureValueType,
    rowCount: number,
  ) {
    this.values =
      type === "DOUBLE"
        ? new Float64Array(rowCount)
        : type === "BIGINT" || type === "TIMESTAMP"
          ? new BigInt64Array(rowCount)
          : type === "BOOLEAN"
            ? new Uint8Array(rowCount)
            : new Array<string | null>(rowCount).fill(null);
    this.valid = new Uint8Array(rowCount);
  }

  set(row: number, value: ScalarValue): void {
    switch (this.type) {
      case "DOUBLE":
        (this.values as Float64Array)[row] = value as number;
        break;
      case "BIGINT":
      case "TIMESTAMP":
        (this.values as BigInt64Array)[row] = typeof value === "bigint" ? value : BigInt(value as number);
        break;
      case "BOOLEAN":
        (this.values as Uint8Array)[row] = value ? 1 : 0;
        break;
      case "VARCHAR":
        (this.values as (string | null)[])[row] = value as string;
        break;
    }
    if (this.valid[row] === 0) {
      this.valid[row] = 1;
      this.count++;
    }
  }

  toAppend(): AppendColumn {
    if (Array.isArray(this.values)) return { kind: "strings", values: this.values };
    const values = this.values as Float64Array | BigInt64Array | Uint8Array;
    return { kind: "fixed", values, valid: this.count === values.length ? null : this.valid };
  }
}

/** Which (measure, series) pairs were recorded in measure_info: a byte per series id, per measure. */
export type SeenPairs = Map<number, Uint8Array>;

function seenBefore(pairs: SeenPairs, measureId: number, seriesId: number): boolean {
  const seen = pairs.get(measureId);
  return seen !== undefined && seriesId < seen.length && seen[seriesId] === 1;
}

function markSeen(pairs: SeenPairs, measureId: number, seriesId: number): void {
  let seen = pairs.get(measureId);
  if (seen === undefined || seriesId >= seen.length) {
    const grown = new Uint8Array(Math.max(1024, (seriesId + 1) * 2));
    if (seen) grown.set(seen);
    seen = grown;
    pairs.set(measureId, seen);
  }
  seen[seriesId] = 1;
}

/** The batch with only the given rows (by position), in their order. */
function selectRows(batch: RowBatch, rows: readonly number[]): RowBatch {
  const pick = <T>(values: readonly T[]): T[] => rows.map((i) => values[i]!);
  const pickInt = (values: Int32Array): Int32Array => Int32Array.from(rows, (i) => values[i]!);
  return {
    ...batch,
    rows: rows.length,
    recordIndex: pickInt(batch.recordIndex),
    seriesOf: pickInt(batch.seriesOf),
    measureOf: pickInt(batch.measureOf),
    timeNs: pick(batch.timeNs),
    version: pick(batch.version),
    values: rows.map((i) => batch.values[i] ?? null),
    attributes: batch.attributes ? rows.map((i) => batch.attributes![i] ?? null) : null,
  };
}

/** Whether two rows of a batch carry the same value (same type, and same value or attributes). */
function sameRowValue(batch: RowBatch, a: number, b: number): boolean {
  if (batch.measures[batch.measureOf[a]!]!.type !== batch.measures[batch.measureOf[b]!]!.type) return false;
  const attributesA = batch.attributes?.[a] ?? null;
  const attributesB = batch.attributes?.[b] ?? null;
  if (!attributesA || !attributesB) return batch.values[a] === batch.values[b];
  if (attributesA.length !== attributesB.length) return false;
  const other = new Map(attributesB.map((x) => [x.name, x.value]));
  return attributesA.every((x) => other.get(x.name) === x.value);
}

function commitPending(table: TableState, pending: PendingChanges, nextSeriesId: number): void {
  for (const d of pending.dimensions) {
    table.dimensions.push(d);
    table.dimensionByName.set(d.name, d);
  }
  for (const a of pending.attributes) {
    table.attributes.push(a);
    table.attributeByName.set(a.name, a);
  }
  for (const [key, { id }] of pending.series) table.series.set(key, id);
  table.nextSeriesId = nextSeriesId;
  for (const [name, id] of pending.measures) {
    table.measures.set(name, { id, name, types: new Set(), dimensions: new Set() });
  }
  const byId = new Map([...table.measures.values()].map((m) => [m.id, m]));
  for (const info of pending.measureInfo) {
    const m = byId.get(info.measureId)!;
    if (info.kind === "type") m.types.add(info.value);
    else m.dimensions.add(info.value);
  }
  for (const t of pending.valueTypes) table.valueTypes.add(t);
}

/**
 * Why a new column name may not join the table: it is taken by a column of the other kind, or it
 * differs only in case from an existing column (queries match column names without regard to
 * case, so both could not be told apart). Null when the name is free.
 */
function columnClash(
  table: TableState,
  pending: PendingChanges,
  name: string,
  kind: "Dimension" | "Measure",
): string | null {
  const lower = name.toLowerCase();
  const columns: { name: string; kind: string }[] = [
    ...table.dimensions.map((d) => ({ name: d.name, kind: "dimension" })),
    ...pending.dimensions.map((d) => ({ name: d.name, kind: "dimension" })),
    ...table.attributes.map((a) => ({ name: a.name, kind: "multi-measure attribute" })),
    ...pending.attributes.map((a) => ({ name: a.name, kind: "multi-measure attribute" })),
  ];
  for (const column of columns) {
    if (column.name === name)
      return `${kind} ${printable(name)} clashes with a ${column.kind} of the same name`;
    if (column.name.toLowerCase() === lower) {
      return `${kind} ${printable(name)} differs only in case from the table's ${column.kind} ${printable(column.name)}: column names are case-insensitive in queries, use ${printable(column.name)}`;
    }
  }
  return null;
}

/**
 * Why rows of a measure are refused for their type, or null: a measure name keeps the type it was
 * first written with. A table written before this rule may already hold a name under several
 * types; each of those stays accepted.
 */
function measureTypeProblem(
  table: TableState,
  pendingMeasureType: ReadonlyMap<string, string>,
  measure: { name: string; type: string },
): string | null {
  const stored = table.measures.get(measure.name);
  if (stored && stored.types.size > 0) {
    if (stored.types.has(measure.type)) return null;
    const types = [...stored.types].sort().join(", ");
    return `Measure ${printable(measure.name)} has type ${types} in this table; got ${measure.type}: a measure's data type cannot change`;
  }
  const first = pendingMeasureType.get(measure.name);
  if (first !== undefined && first !== measure.type) {
    // Worded as for a stored type: grouped calls get the words they would get one after the other.
    return `Measure ${printable(measure.name)} has type ${first} in this table; got ${measure.type}: a measure's data type cannot change`;
  }
  return null;
}

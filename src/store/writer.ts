/**
 * The write path: validated records of one table become one DuckDB transaction.
 *
 * Records go to a narrow staging table through DuckDB's appender (numbers only, except VARCHAR
 * values), are checked against existing points for Timestream's Version rules with one join, then
 * copied into the points table. New series, measures and columns are added in the same
 * transaction, so a crash leaves either all of a batch or none of it.
 */
import { HourglassError } from "../errors.js";
import {
  type AttributeColumn,
  type DimensionColumn,
  DUCK_TYPE,
  measuresTable,
  pointsTable,
  seriesTable,
  type TableState,
  VALUE_COLUMN,
  visibleCutoffNs,
} from "./catalog.js";
import { type ColumnKind, type DuckDBValue, type Engine, quoteString } from "./engine.js";
import { MAX_DIMENSIONS_PER_TABLE, type NormalizedRecord } from "./records.js";
import type { MeasureValueType, RejectedRecord, ScalarMeasureValueType, WriteResult } from "./types.js";

const FUTURE_LIMIT_NS = 15n * 60n * 1_000_000_000n;
const NS_PER_HOUR = 3_600_000_000_000n;
/** Series and measure ids combine into one safe integer: measure ids stay below 2^20. */
const MEASURE_ID_SPAN = 1_048_576;
/** Shared empty lists: most records bring no new dimension or attribute, and allocate nothing. */
const NONE: string[] = [];
const NONE_ATTRIBUTES: { name: string; type: ScalarMeasureValueType }[] = [];
/** Time offsets inside a batch travel as doubles: exact up to 2^53 ns. */
const MAX_EXACT_OFFSET_NS = 2n ** 53n;

/** Staging column kind for each scalar type (timestamps travel as epoch-nanosecond BIGINTs). */
const STAGE_KIND: Record<ScalarMeasureValueType, ColumnKind> = {
  DOUBLE: "DOUBLE",
  BIGINT: "BIGINT",
  VARCHAR: "VARCHAR",
  BOOLEAN: "BOOLEAN",
  TIMESTAMP: "BIGINT",
};

interface StagedColumn {
  /** Physical column in the points table. */
  column: string;
  type: ScalarMeasureValueType;
  values: DuckDBValue[];
}

/** Schema additions a batch makes; applied to the in-memory catalog only after commit. */
interface PendingChanges {
  dimensions: DimensionColumn[];
  attributes: AttributeColumn[];
  series: Map<string, { id: number; record: NormalizedRecord }>;
  measures: Map<string, number>;
  measureInfo: { measureId: number; kind: "type" | "dimension"; value: string }[];
  valueTypes: Set<ScalarMeasureValueType>;
}

function formatWindowTime(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

export class TableWriter {
  constructor(private readonly engine: Engine) {}

  /** Writes one batch to one table. Call only from the store's serial write queue. */
  async write(
    table: TableState,
    records: NormalizedRecord[],
    rejected: RejectedRecord[],
    nowNs: bigint,
  ): Promise<WriteResult> {
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

    // Accepted records as parallel arrays: no object per record on the hot path.
    const acceptedRecords: NormalizedRecord[] = [];
    const acceptedSeries: number[] = [];
    const acceptedMeasures: number[] = [];
    const lowerLimit = table.magneticWrites ? visibleCutoff : memoryCutoff;
    let lastTime = -1n;
    let lastTimeInWindow = false;

    for (const record of records) {
      // The ingestion window: Timestream refuses the future beyond 15 minutes, and the past beyond
      // the memory store unless magnetic writes are on (then back to the magnetic retention).
      // Records of a batch mostly share one time, so the verdict is reused.
      if (record.timeNs !== lastTime) {
        lastTime = record.timeNs;
        lastTimeInWindow = record.timeNs < futureLimit && record.timeNs >= lowerLimit;
      }
      if (!lastTimeInWindow) {
        const lower = table.magneticWrites ? visibleCutoff : memoryCutoff;
        rejected.push({
          RecordIndex: record.index,
          Reason: `The record timestamp ${formatWindowTime(record.timeNs)} is outside the time range [${formatWindowTime(lower)}, ${formatWindowTime(futureLimit)}) of the data ingestion window.`,
        });
        continue;
      }
      // A known series brings no new dimension; only a new one is checked against the table's limits.
      let seriesId = table.series.get(record.seriesKey) ?? pending.series.get(record.seriesKey)?.id;
      let problem: string | null = null;
      let newDimensions: string[] = NONE;
      if (seriesId === undefined) {
        newDimensions = [];
        for (const d of record.dimensions) {
          if (table.dimensionByName.has(d.Name) || pending.dimensions.some((p) => p.name === d.Name))
            continue;
          if (table.attributeByName.has(d.Name) || pending.attributes.some((p) => p.name === d.Name)) {
            problem = `Dimension '${d.Name}' clashes with a multi-measure attribute of the same name`;
            break;
          }
          newDimensions.push(d.Name);
        }
        if (!problem && nextDimension + newDimensions.length > MAX_DIMENSIONS_PER_TABLE) {
          problem = `The table would have more than ${MAX_DIMENSIONS_PER_TABLE} dimensions`;
        }
      }
      let newAttributes: { name: string; type: ScalarMeasureValueType }[] = NONE_ATTRIBUTES;
      if (!problem && record.attributes) {
        newAttributes = [];
        for (const a of record.attributes) {
          const existing =
            table.attributeByName.get(a.name) ?? pending.attributes.find((p) => p.name === a.name);
          if (existing) {
            if (existing.type !== a.type) {
              problem = `Measure '${a.name}' has type ${existing.type} in this table; got ${a.type}`;
              break;
            }
            continue;
          }
          if (table.dimensionByName.has(a.name) || pending.dimensions.some((p) => p.name === a.name)) {
            problem = `Measure '${a.name}' clashes with a dimension of the same name`;
            break;
          }
          newAttributes.push({ name: a.name, type: a.type });
        }
      }
      if (problem) {
        rejected.push({ RecordIndex: record.index, Reason: problem });
        continue;
      }
      for (const name of newDimensions) pending.dimensions.push({ name, column: `d${nextDimension++}` });
      for (const a of newAttributes) pending.attributes.push({ ...a, column: `a${nextAttribute++}` });
      if (seriesId === undefined) {
        seriesId = nextSeriesId++;
        pending.series.set(record.seriesKey, { id: seriesId, record });
      }

      const measure = table.measures.get(record.measureName);
      let measureId = measure?.id ?? pending.measures.get(record.measureName);
      if (measureId === undefined) {
        measureId = nextMeasureId++;
        pending.measures.set(record.measureName, measureId);
      }
      // Which types and dimensions each measure has (for SHOW MEASURES), checked once per series.
      if (
        !seenBefore(table.seenSeriesMeasures, measureId, seriesId) &&
        !seenBefore(pendingCombos, measureId, seriesId)
      ) {
        markSeen(pendingCombos, measureId, seriesId);
        const typeKey = `${measureId}\u0000${record.type}`;
        if (!measure?.types.has(record.type) && !pendingMeasureTypes.has(typeKey)) {
          pendingMeasureTypes.add(typeKey);
          pending.measureInfo.push({ measureId, kind: "type", value: record.type });
        }
        for (const d of record.dimensions) {
          if (measure?.dimensions.has(d.Name)) continue;
          const dimKey = `${measureId}\u0000${d.Name}`;
          if (pendingMeasureDims.has(dimKey)) continue;
          pendingMeasureDims.add(dimKey);
          pending.measureInfo.push({ measureId, kind: "dimension", value: d.Name });
        }
      }
      if (record.type !== "MULTI" && !table.valueTypes.has(record.type)) pending.valueTypes.add(record.type);
      acceptedRecords.push(record);
      acceptedSeries.push(seriesId);
      acceptedMeasures.push(measureId);
    }

    // Duplicates inside the batch follow the same Version rules as against stored data: the first
    // occurrence stands as "existing" for later ones.
    const byTime = new Map<bigint, Map<number, number>>(); // time -> series/measure combo -> position
    // Keys that fit in a small integer hash much faster: a tight span when the ids allow it.
    const span = nextMeasureId < 1024 && nextSeriesId < 1 << 20 ? 1024 : MEASURE_ID_SPAN;
    const dropped = new Uint8Array(acceptedRecords.length); // 1: a no-op, 2: rejected
    let atTime: Map<number, number> | undefined;
    let atTimeKey = -1n;
    for (let i = 0; i < acceptedRecords.length; i++) {
      const record = acceptedRecords[i]!;
      if (record.timeNs !== atTimeKey) {
        atTimeKey = record.timeNs;
        atTime = byTime.get(atTimeKey);
        if (!atTime) {
          atTime = new Map();
          byTime.set(atTimeKey, atTime);
        }
      }
      const key = acceptedSeries[i]! * span + acceptedMeasures[i]!;
      const earlier = atTime!.get(key);
      if (earlier === undefined) {
        atTime!.set(key, i);
        continue;
      }
      const first = acceptedRecords[earlier]!;
      if (record.version > first.version) {
        dropped[earlier] = 1;
        atTime!.set(key, i);
      } else if (sameValue(first, record)) {
        dropped[i] = 1; // an identical record again: a no-op that still counts as ingested
      } else {
        rejected.push({
          RecordIndex: record.index,
          Reason:
            "A record with the same dimensions, time and measure name already exists with a different value; send a higher Version to update it.",
          ExistingVersion: Number(first.version),
        });
        dropped[i] = 2;
      }
    }
    let ingestedNoOp = 0;
    const stageRecords: NormalizedRecord[] = [];
    const stageSeries: number[] = [];
    const stageMeasures: number[] = [];
    for (let i = 0; i < acceptedRecords.length; i++) {
      if (dropped[i] === 1) ingestedNoOp++;
      if (dropped[i] !== 0) continue;
      stageRecords.push(acceptedRecords[i]!);
      stageSeries.push(acceptedSeries[i]!);
      stageMeasures.push(acceptedMeasures[i]!);
    }

    const result: WriteResult = {
      RecordsIngested: { Total: 0, MemoryStore: 0, MagneticStore: 0 },
      rejected,
    };
    if (stageRecords.length === 0) {
      result.RecordsIngested.Total = ingestedNoOp;
      result.RecordsIngested.MemoryStore = ingestedNoOp;
      return result;
    }

    // Columns to stage: the value columns this batch uses.
    const staged = new Map<string, StagedColumn>();
    const attributeColumn = (name: string): AttributeColumn =>
      (table.attributeByName.get(name) ?? pending.attributes.find((p) => p.name === name))!;
    let lastType: MeasureValueType | null = null;
    for (const record of stageRecords) {
      if (record.attributes) {
        for (const a of record.attributes) {
          const col = attributeColumn(a.name);
          if (!staged.has(col.column))
            staged.set(col.column, { column: col.column, type: col.type, values: [] });
        }
      } else if (record.type !== lastType) {
        lastType = record.type;
        const type = record.type as ScalarMeasureValueType;
        const column = VALUE_COLUMN[type];
        if (!staged.has(column)) staged.set(column, { column, type, values: [] });
      }
    }
    const stagedColumns = [...staged.values()];
    const singleColumn = stagedColumns.length === 1 ? stagedColumns[0]! : null;
    // Times travel as DOUBLE nanosecond offsets from the batch's first time (exact below 2^53 ns,
    // 104 days); versions only when they differ. Numbers cross into DuckDB far faster than BigInts.
    const baseTime = stageRecords[0]!.timeNs;
    const baseVersion = stageRecords[0]!.version;
    let minTime = baseTime;
    let maxTime = baseTime;
    let sameVersion = true;
    let magnetic = 0;
    const timeOffsets = new Float64Array(stageRecords.length);
    let offsetTime = baseTime;
    let offset = 0;
    lastTime = -1n;
    const seriesIds = Int32Array.from(stageSeries);
    const measureIds = Int32Array.from(stageMeasures);
    // The common case, one DOUBLE column: a typed array, copied into DuckDB's vectors in one go.
    const doubles = singleColumn?.type === "DOUBLE" ? new Float64Array(stageRecords.length) : null;
    for (let i = 0; i < stageRecords.length; i++) {
      const record = stageRecords[i]!;
      const t = record.timeNs;
      if (t !== lastTime) {
        lastTime = t;
        if (t < minTime) minTime = t;
        if (t > maxTime) maxTime = t;
      }
      if (t < memoryCutoff) magnetic++;
      if (t !== offsetTime) {
        offsetTime = t;
        offset = Number(t - baseTime); // a BigInt subtraction allocates: once per distinct time
      }
      timeOffsets[i] = offset;
      if (record.version !== baseVersion) sameVersion = false;
      if (doubles) {
        doubles[i] = record.value as number;
      } else if (singleColumn) {
        singleColumn.values.push(record.value as DuckDBValue);
      } else if (record.attributes) {
        for (const c of stagedColumns) c.values.push(null);
        for (const a of record.attributes) {
          staged.get(attributeColumn(a.name).column)!.values[i] = a.value as DuckDBValue;
        }
      } else {
        const column = VALUE_COLUMN[record.type as ScalarMeasureValueType];
        for (const c of stagedColumns)
          c.values.push(c.column === column ? (record.value as DuckDBValue) : null);
      }
    }
    // A batch spanning more than 104 days (possible with magnetic writes) sends absolute times.
    const absoluteTimes = maxTime - minTime >= MAX_EXACT_OFFSET_NS;
    const timeColumn: DuckDBValue[] | Float64Array = absoluteTimes
      ? stageRecords.map((r) => r.timeNs - baseTime)
      : timeOffsets;
    const versions = sameVersion ? null : stageRecords.map((r) => r.version);

    const stageName = `stage_t${table.id}`;
    const engine = this.engine;
    // A fresh staging table a batch: its rowid is then the position in the batch (0..n-1).
    const stageKinds: ColumnKind[] = [
      "INTEGER",
      "INTEGER",
      absoluteTimes ? "BIGINT" : "DOUBLE",
      ...(versions ? (["BIGINT"] as const) : []),
      ...stagedColumns.map((c) => STAGE_KIND[c.type]),
    ];
    const stageNames = [
      "series_id",
      "measure_id",
      "time_offset",
      ...(versions ? ["version"] : []),
      ...stagedColumns.map((c) => c.column),
    ];
    await engine.run(
      `CREATE OR REPLACE TEMP TABLE ${stageName}(${stageNames.map((n, i) => `${n} ${stageKinds[i]}`).join(", ")})`,
    );
    const stageTime = `make_timestamp_ns(${baseTime} + s.time_offset::BIGINT)`;
    const stageVersion = versions ? "s.version" : `${baseVersion}`;
    // The staging rows are committed before the transaction so their rowids are their positions
    // (rows appended inside a transaction get provisional rowids until it commits).
    await engine.appendColumns(stageName, stageKinds, [
      seriesIds,
      measureIds,
      timeColumn,
      ...(versions ? [versions] : []),
      ...stagedColumns.map((c) => (doubles && c === singleColumn ? doubles : c.values)),
    ]);
    await engine.run("BEGIN TRANSACTION");
    try {
      await this.applySchemaChanges(table, pending);
      const stageRef = `temp.${stageName}`;
      const points = pointsTable(table);
      const timeRange = `p.time BETWEEN make_timestamp_ns(${minTime}) AND make_timestamp_ns(${maxTime})`;
      const allValueColumns = [
        ...Object.entries(VALUE_COLUMN).map(([type, column]) => ({
          column,
          type: type as ScalarMeasureValueType,
        })),
        ...table.attributes,
      ];
      const sameExpr = allValueColumns
        .map(({ column, type }) => {
          const s = staged.get(column);
          if (!s) return `p.${column} IS NULL`;
          const stagedValue = type === "TIMESTAMP" ? `make_timestamp_ns(s.${column})` : `s.${column}`;
          return `${stagedValue} IS NOT DISTINCT FROM p.${column}`;
        })
        .join(" AND ");
      // Data mostly arrives in time order: a batch entirely after the newest stored point cannot
      // clash with anything stored, so the check is skipped.
      const newestStored = await this.newestTime(table);
      const conflicts =
        newestStored === null || minTime > newestStored
          ? []
          : await engine.rows(
              `SELECT s.rowid AS row_idx, p._version AS existing_version, ${stageVersion} AS version, (${sameExpr}) AS same
         FROM ${stageRef} s JOIN ${points} p
           ON p._series_id = s.series_id AND p._measure_id = s.measure_id AND p.time = ${stageTime}
         WHERE ${timeRange}`,
            );
      const removeFromStage: number[] = [];
      const replace: number[] = [];
      const rejectedPositions = new Set<number>();
      for (const c of conflicts) {
        const position = Number(c["row_idx"]);
        const existing = BigInt(String(c["existing_version"]));
        const version = BigInt(String(c["version"]));
        if (version > existing) replace.push(position);
        else if (c["same"] === true) removeFromStage.push(position);
        else {
          removeFromStage.push(position);
          rejectedPositions.add(position);
          rejected.push({
            RecordIndex: stageRecords[position]!.index,
            Reason:
              "A record with the same dimensions, time and measure name already exists with a different value; send a higher Version to update it.",
            ExistingVersion: Number(existing),
          });
        }
      }
      if (removeFromStage.length > 0) {
        await engine.run(`DELETE FROM ${stageRef} WHERE rowid IN (${removeFromStage.join(",")})`);
      }
      if (replace.length > 0) {
        await engine.run(
          `DELETE FROM ${points} p USING ${stageRef} s
           WHERE s.rowid IN (${replace.join(",")}) AND p._series_id = s.series_id AND p._measure_id = s.measure_id
             AND p.time = ${stageTime} AND ${timeRange}`,
        );
      }
      const targetColumns = stagedColumns.map((c) => c.column);
      const sourceColumns = stagedColumns.map((c) =>
        c.type === "TIMESTAMP" ? `make_timestamp_ns(s.${c.column})` : `s.${c.column}`,
      );
      await engine.run(
        `INSERT INTO ${points} (time, _series_id, _measure_id, _version${targetColumns.map((c) => `, ${c}`).join("")})
         SELECT ${stageTime}, s.series_id, s.measure_id, ${stageVersion}${sourceColumns.map((c) => `, ${c}`).join("")}
         FROM ${stageRef} s`,
      );
      await engine.run("COMMIT");

      for (const position of rejectedPositions) if (stageRecords[position]!.timeNs < memoryCutoff) magnetic--;
      const memory = ingestedNoOp + stageRecords.length - rejectedPositions.size - magnetic;
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
    for (const d of pending.dimensions) {
      await engine.run(`ALTER TABLE ${seriesTable(table)} ADD COLUMN ${d.column} VARCHAR`);
      await engine.run(
        `INSERT INTO _hg.columns VALUES (${table.id}, 'dimension', ${quoteString(d.name)}, '${d.column}', 'VARCHAR')`,
      );
    }
    for (const a of pending.attributes) {
      await engine.run(`ALTER TABLE ${pointsTable(table)} ADD COLUMN ${a.column} ${DUCK_TYPE[a.type]}`);
      await engine.run(
        `INSERT INTO _hg.columns VALUES (${table.id}, 'attribute', ${quoteString(a.name)}, '${a.column}', '${a.type}')`,
      );
    }
    for (const type of pending.valueTypes) {
      await engine.run(`INSERT INTO _hg.columns VALUES (${table.id}, 'value', '', '', '${type}')`);
    }
    if (pending.series.size > 0) {
      const allDimensions = [...table.dimensions, ...pending.dimensions];
      const columnOf = new Map(allDimensions.map((d) => [d.name, d.column]));
      const rows = [...pending.series.values()];
      for (let i = 0; i < rows.length; i += 500) {
        // Grouped by column set so each INSERT names exactly the dimensions its series have.
        const groups = new Map<string, string[]>();
        for (const { id, record } of rows.slice(i, i + 500)) {
          const cols = record.dimensions.map((d) => columnOf.get(d.Name)!);
          const key = cols.join(",");
          const values = `(${id}${record.dimensions.map((d) => `, ${quoteString(d.Value)}`).join("")})`;
          const list = groups.get(key);
          if (list) list.push(values);
          else groups.set(key, [values]);
        }
        for (const [cols, values] of groups) {
          await engine.run(
            `INSERT INTO ${seriesTable(table)} (series_id${cols ? `, ${cols}` : ""}) VALUES ${values.join(", ")}`,
          );
        }
      }
    }
    if (pending.measures.size > 0) {
      const values = [...pending.measures].map(([name, id]) => `(${id}, ${quoteString(name)})`).join(", ");
      await engine.run(`INSERT INTO ${measuresTable(table)} VALUES ${values}`);
    }
    if (pending.measureInfo.length > 0) {
      const values = pending.measureInfo
        .map((m) => `(${table.id}, ${m.measureId}, '${m.kind}', ${quoteString(m.value)})`)
        .join(", ");
      await engine.run(`INSERT INTO _hg.measure_info VALUES ${values}`);
    }
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

function sameValue(a: NormalizedRecord, b: NormalizedRecord): boolean {
  if (a.type !== b.type) return false;
  if (!a.attributes || !b.attributes) return a.value === b.value;
  if (a.attributes.length !== b.attributes.length) return false;
  const other = new Map(b.attributes.map((x) => [x.name, x.value]));
  return a.attributes.every((x) => other.get(x.name) === x.value);
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

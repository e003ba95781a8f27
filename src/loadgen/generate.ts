/**
 * One loop of the generator: every series once, all at one integer-second time, as columns
 * (one typed array per measure, indexed by series). Record objects are made later, only by the
 * converters in shapes.ts, because building 26,000 objects and number strings costs far more than
 * drawing the numbers.
 *
 * The values of a loop depend only on (seed, time): re-generating a time gives the same values, so
 * a re-run of a historical fill writes the same records again, which the store treats as no-ops
 * (Timestream rejects a *different* value at the same dimensions and time).
 */
import { validationError } from "../errors.js";
import {
  CPU_BAND_HIGH,
  CPU_BAND_LOW,
  type DevOpsModel,
  type MetricMeasureName,
  PERCENT_MEASURES,
  SMALL_CPU_MEASURES,
  STREAM_LOOP_VALUES,
  TASK_COMPLETED_MAX,
  TASK_END_STATE_PROBABILITIES,
} from "./model.js";
import { deriveSeed, SeededRandom } from "./random.js";

export type RecordShape = "single" | "multi";

export type MetricColumns = Readonly<Record<MetricMeasureName, Float64Array>>;

export interface EventColumns {
  /** BIGINT in 0..500. */
  readonly task_completed: Int32Array;
  /** Index into TASK_END_STATES. */
  readonly task_end_state: Uint8Array;
  readonly gc_reclaimed: Float64Array;
  readonly gc_pause: Float64Array;
  readonly memory_free: Float64Array;
}

export interface GeneratedLoop {
  /** Epoch seconds, an integer. */
  readonly time: number;
  readonly model: DevOpsModel;
  /** The record shape the run asked for; `toWriteRecords` / `toStreamPayloads` follow it. */
  readonly shape: RecordShape;
  /** Columns of length model.metricSeries.length. */
  readonly metrics: MetricColumns;
  /** Columns of length model.eventSeries.length; absent when events are not generated. */
  readonly events: EventColumns | undefined;
}

export interface GenerateOptions {
  shape?: RecordShape;
  includeEvents?: boolean;
}

/** Latest time accepted: 9999-12-31T23:59:59Z, as Timestream's own limit. */
export const MAX_TIME_SECONDS = 253402300799;

const cpuLowBaseline = 0;
const cpuNormalBaseline = 35;
const cpuHighBaseline = 85;
const cpuLowSpan = 10;
const cpuNormalSpan = 30;
const cpuHighSpan = 10;

/** Cumulative task_end_state probabilities; the last bucket takes whatever rounding leaves. */
const taskEndStateThresholds = Float64Array.from(
  TASK_END_STATE_PROBABILITIES.map((_, k) =>
    TASK_END_STATE_PROBABILITIES.slice(0, k + 1).reduce((sum, p) => sum + p, 0),
  ),
);
const lastTaskEndState = TASK_END_STATE_PROBABILITIES.length - 1;

export function validateTime(time: unknown, name = "time"): number {
  if (typeof time !== "number" || !Number.isSafeInteger(time) || time < 0 || time > MAX_TIME_SECONDS) {
    throw validationError(
      `${name} must be whole epoch seconds in 0..${MAX_TIME_SECONDS}, got ${String(time)}`,
      {
        [name]: time,
      },
    );
  }
  return time;
}

export function validateShape(shape: unknown): RecordShape {
  if (shape !== "single" && shape !== "multi") {
    throw validationError(`shape must be "single" or "multi", got ${String(shape)}`, { shape });
  }
  return shape;
}

export function generateLoop(model: DevOpsModel, time: number, options: GenerateOptions = {}): GeneratedLoop {
  validateTime(time);
  const shape = validateShape(options.shape ?? "single");
  const random = new SeededRandom(deriveSeed(model.seed, time, STREAM_LOOP_VALUES));
  const metrics = generateMetrics(model, random);
  const events = (options.includeEvents ?? true) ? generateEvents(model, random) : undefined;
  return Object.freeze({ time, model, shape, metrics, events });
}

function generateMetrics(model: DevOpsModel, random: SeededRandom): MetricColumns {
  const hosts = model.metricSeries.length;
  const bands = model.cpuBand;

  const cpuUser = new Float64Array(hosts);
  for (let i = 0; i < hosts; i++) {
    const band = bands[i];
    const u = random.nextFloat();
    cpuUser[i] =
      band === CPU_BAND_HIGH
        ? cpuHighBaseline + cpuHighSpan * u
        : band === CPU_BAND_LOW
          ? cpuLowBaseline + cpuLowSpan * u
          : cpuNormalBaseline + cpuNormalSpan * u;
  }

  // Summed in the original's order, starting from 0.0, so cpu_idle equals
  // 100 - cpu_user - (((((system + steal) + iowait) + nice) + hi) + si) bit for bit.
  const otherCpu = new Float64Array(hosts);
  const columns: Partial<Record<MetricMeasureName, Float64Array>> = { cpu_user: cpuUser };
  for (const name of SMALL_CPU_MEASURES) {
    const column = new Float64Array(hosts);
    for (let i = 0; i < hosts; i++) {
      const value = random.nextFloat();
      column[i] = value;
      otherCpu[i] = otherCpu[i]! + value;
    }
    columns[name] = column;
  }

  const cpuIdle = new Float64Array(hosts);
  for (let i = 0; i < hosts; i++) cpuIdle[i] = 100 - cpuUser[i]! - otherCpu[i]!;
  columns.cpu_idle = cpuIdle;

  for (const name of PERCENT_MEASURES) columns[name] = percentColumn(hosts, random);
  return Object.freeze(columns as Record<MetricMeasureName, Float64Array>);
}

function generateEvents(model: DevOpsModel, random: SeededRandom): EventColumns {
  const count = model.eventSeries.length;
  const taskCompleted = new Int32Array(count);
  for (let i = 0; i < count; i++) taskCompleted[i] = random.nextInt(TASK_COMPLETED_MAX + 1);

  const taskEndState = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const u = random.nextFloat();
    let state = 0;
    while (state < lastTaskEndState && u >= taskEndStateThresholds[state]!) state++;
    taskEndState[i] = state;
  }

  return Object.freeze({
    task_completed: taskCompleted,
    task_end_state: taskEndState,
    gc_reclaimed: percentColumn(count, random),
    gc_pause: percentColumn(count, random),
    memory_free: percentColumn(count, random),
  });
}

/** Uniform in [0, 100). */
function percentColumn(length: number, random: SeededRandom): Float64Array {
  const column = new Float64Array(length);
  for (let i = 0; i < length; i++) column[i] = 100 * random.nextFloat();
  return column;
}

/**
 * The generator's two modes. `historical` fills a time range as fast as the sink takes loops;
 * `realtime` emits one loop now and then one every `intervalSeconds`, on whole seconds, until
 * aborted. Both await the sink for every loop (back-pressure: at most one write in flight, and
 * nothing is generated ahead of it) and report progress after each loop written.
 *
 * Sinks receive columnar loops and convert them themselves (shapes.ts), so a store sink can write
 * WriteRecords and a stream sink can put JSON without this file knowing either.
 */
import { performance } from "node:perf_hooks";
import { validationError } from "../errors.js";
import { type Clock, systemClock } from "./clock.js";
import {
  type GeneratedLoop,
  generateLoop,
  type RecordShape,
  validateShape,
  validateTime,
} from "./generate.js";
import { isLateLoop, LateQueue, validateLateSeconds, validatePercentLate } from "./late.js";
import { buildModel, type DevOpsModel, type ModelOptions, recordsPerLoop } from "./model.js";

export interface LoadSinkResult {
  /** Bytes the sink sent or stored for this loop, when it knows. */
  bytes?: number;
}

export interface LoadSink {
  /** Called once per loop, never concurrently; the run waits for it before generating more. */
  // biome-ignore lint/suspicious/noConfusingVoidType: void lets a plain `async write() {}` be a sink.
  write(loop: GeneratedLoop): Promise<void | LoadSinkResult>;
}

export interface LoadProgress {
  /** Loops written so far, late ones included. */
  loops: number;
  records: number;
  bytes: number | undefined;
  /** Time (epoch seconds) of the loop just written. */
  lastTime: number;
  /** Loops the run will write in all, when known (historical mode). */
  totalLoops: number | undefined;
  /** Loops generated and held back, not yet written. */
  heldLoops: number;
}

export interface RunOptions extends ModelOptions {
  sink: LoadSink;
  /** Record shape the sink should produce (default "single"); sets the record counts. */
  shape?: RecordShape;
  /** Generate event series too (default true). */
  includeEvents?: boolean;
  /** Share of loops (0..100, default 0) held back and written `lateSeconds` after their time. */
  percentLate?: number;
  /** How late, in seconds (default 0). */
  lateSeconds?: number;
  onProgress?: (progress: LoadProgress) => void;
}

export interface HistoricalOptions extends RunOptions {
  /** First loop time, inclusive: epoch seconds or a Date on a whole second. */
  from: number | Date;
  /** End of the range, exclusive. */
  to: number | Date;
  /** Seconds between loops, a positive integer. */
  stepSeconds: number;
  /** Stops between loops when aborted. */
  signal?: AbortSignal;
}

export interface RealtimeOptions extends RunOptions {
  /** Seconds between loops, a positive integer (default 1). */
  intervalSeconds?: number;
  /** Stop after generating this many loops (late ones are still written when due). */
  loops?: number;
  signal?: AbortSignal;
  clock?: Clock;
}

export interface RunSummary {
  prefix: string;
  /** Loops written. */
  loops: number;
  records: number;
  bytes: number | undefined;
  /** Elapsed seconds (real-time mode: by its clock). */
  seconds: number;
  recordsPerSecond: number;
  /** Loops that were held back as late (written, or dropped on abort). */
  lateLoops: number;
  /** Late loops still held when the run was aborted; they were not written. */
  droppedLateLoops: number;
  /** Real-time ticks skipped because the sink was still busy when they came. */
  skippedTicks: number;
  aborted: boolean;
  firstTime: number | undefined;
  lastTime: number | undefined;
}

interface Settings {
  model: DevOpsModel;
  sink: LoadSink;
  shape: RecordShape;
  includeEvents: boolean;
  percentLate: number;
  late: LateQueue;
  recordsEachLoop: number;
  onProgress: ((progress: LoadProgress) => void) | undefined;
}

function resolveSettings(options: RunOptions): Settings {
  if (options === null || typeof options !== "object") throw validationError("options must be an object");
  const sink = options.sink;
  if (sink === null || typeof sink !== "object" || typeof sink.write !== "function") {
    throw validationError("sink must be an object with a write(loop) method");
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== "function") {
    throw validationError("onProgress must be a function");
  }
  if (options.includeEvents !== undefined && typeof options.includeEvents !== "boolean") {
    throw validationError(`includeEvents must be a boolean, got ${String(options.includeEvents)}`);
  }
  const shape = validateShape(options.shape ?? "single");
  const includeEvents = options.includeEvents ?? true;
  const percentLate = validatePercentLate(options.percentLate ?? 0);
  const lateSeconds = validateLateSeconds(options.lateSeconds ?? 0);
  const model = buildModel({ hostScale: options.hostScale, seed: options.seed });
  return {
    model,
    sink,
    shape,
    includeEvents,
    percentLate,
    late: new LateQueue(lateSeconds),
    recordsEachLoop: recordsPerLoop(model, shape, includeEvents).total,
    onProgress: options.onProgress,
  };
}

/** Counts what is written and reports it. */
class Tally {
  loops = 0;
  records = 0;
  bytes: number | undefined = undefined;
  lateLoops = 0;
  firstTime: number | undefined = undefined;
  lastTime: number | undefined = undefined;

  constructor(
    private readonly settings: Settings,
    private readonly totalLoops: number | undefined,
  ) {}

  async write(loop: GeneratedLoop): Promise<void> {
    const result = await this.settings.sink.write(loop);
    this.loops++;
    this.records += this.settings.recordsEachLoop;
    if (result && typeof result.bytes === "number") this.bytes = (this.bytes ?? 0) + result.bytes;
    this.firstTime = this.firstTime === undefined ? loop.time : Math.min(this.firstTime, loop.time);
    this.lastTime = this.lastTime === undefined ? loop.time : Math.max(this.lastTime, loop.time);
    this.settings.onProgress?.({
      loops: this.loops,
      records: this.records,
      bytes: this.bytes,
      lastTime: loop.time,
      totalLoops: this.totalLoops,
      heldLoops: this.settings.late.size,
    });
  }

  /** Generates the loop at `time`, then writes it or holds it back as late. */
  async emit(time: number): Promise<void> {
    const { model, shape, includeEvents, percentLate, late } = this.settings;
    const loop = generateLoop(model, time, { shape, includeEvents });
    if (isLateLoop(model.seed, time, percentLate)) {
      this.lateLoops++;
      late.hold(loop);
    } else {
      await this.write(loop);
    }
  }

  summary(
    seconds: number,
    extra: { aborted: boolean; skippedTicks: number; droppedLateLoops: number },
  ): RunSummary {
    return {
      prefix: this.settings.model.prefix,
      loops: this.loops,
      records: this.records,
      bytes: this.bytes,
      seconds,
      recordsPerSecond: seconds > 0 ? this.records / seconds : 0,
      lateLoops: this.lateLoops,
      firstTime: this.firstTime,
      lastTime: this.lastTime,
      ...extra,
    };
  }
}

function toEpochSeconds(value: unknown, name: string): number {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (!Number.isFinite(ms) || ms % 1000 !== 0) {
      throw validationError(`${name} must be a valid Date on a whole second, got ${String(value)}`, {
        [name]: value,
      });
    }
    return validateTime(ms / 1000, name);
  }
  return validateTime(value, name);
}

function validatePositiveInteger(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw validationError(`${name} must be a positive integer, got ${String(value)}`, { [name]: value });
  }
  return value;
}

/** Loops at from, from + step, … while < to; late loops are written once the fill reaches their due time. */
export async function historical(options: HistoricalOptions): Promise<RunSummary> {
  const settings = resolveSettings(options);
  const from = toEpochSeconds(options.from, "from");
  const to = toEpochSeconds(options.to, "to");
  const stepSeconds = validatePositiveInteger(options.stepSeconds, "stepSeconds");
  if (from >= to) {
    throw validationError(`from must be before to, got from=${from} to=${to}`, { from, to });
  }
  const signal = options.signal;
  const totalLoops = Math.ceil((to - from) / stepSeconds);
  const tally = new Tally(settings, totalLoops);
  const late = settings.late;
  const startedMs = performance.now();

  let aborted = false;
  for (let time = from; time < to; time += stepSeconds) {
    if (signal?.aborted) {
      aborted = true;
      break;
    }
    for (let due = late.takeDue(time); due !== undefined; due = late.takeDue(time)) await tally.write(due);
    await tally.emit(time);
  }
  let droppedLateLoops = 0;
  if (aborted) droppedLateLoops = late.takeAll().length;
  else for (const loop of late.takeAll()) await tally.write(loop);

  const seconds = (performance.now() - startedMs) / 1000;
  return tally.summary(seconds, { aborted, skippedTicks: 0, droppedLateLoops });
}

/**
 * One loop at the current whole second, then one at every `intervalSeconds` after it. If the sink
 * takes longer than a tick, the ticks whose second has passed are skipped (and counted) rather
 * than written with old times in a burst. Late loops are written when the clock reaches their due
 * time; on abort, those still held are dropped (and counted).
 */
export async function realtime(options: RealtimeOptions): Promise<RunSummary> {
  const settings = resolveSettings(options);
  const intervalSeconds = validatePositiveInteger(options.intervalSeconds ?? 1, "intervalSeconds");
  const loopLimit = options.loops === undefined ? undefined : validatePositiveInteger(options.loops, "loops");
  const clock = options.clock ?? systemClock;
  if (clock === null || typeof clock.now !== "function" || typeof clock.sleep !== "function") {
    throw validationError("clock must have now() and sleep(ms, signal) methods");
  }
  const signal = options.signal;
  const tally = new Tally(settings, undefined);
  const late = settings.late;
  const startedMs = clock.now();

  let nextTick = Math.floor(startedMs / 1000);
  let generated = 0;
  let skippedTicks = 0;
  for (;;) {
    if (signal?.aborted) break;
    const tickPending = loopLimit === undefined || generated < loopLimit;
    const lateDue = late.nextDueSeconds();
    if (!tickPending && lateDue === undefined) break;
    const wakeSeconds = Math.min(
      tickPending ? nextTick : Number.POSITIVE_INFINITY,
      lateDue ?? Number.POSITIVE_INFINITY,
    );
    const nowMs = clock.now();
    if (nowMs < wakeSeconds * 1000) {
      await clock.sleep(wakeSeconds * 1000 - nowMs, signal);
      continue; // check the abort and the clock again: a timer may wake early or late
    }

    const nowSeconds = Math.floor(nowMs / 1000);
    for (let due = late.takeDue(nowSeconds); due !== undefined; due = late.takeDue(nowSeconds)) {
      await tally.write(due);
    }
    if (tickPending && nowSeconds >= nextTick) {
      const time = nextTick;
      await tally.emit(time);
      generated++;
      nextTick = time + intervalSeconds;
      // A tick is missed once its whole second has passed; one still in its second runs now.
      const afterSeconds = Math.floor(clock.now() / 1000);
      const morePending = loopLimit === undefined || generated < loopLimit;
      if (morePending && nextTick < afterSeconds) {
        const missed = Math.ceil((afterSeconds - nextTick) / intervalSeconds);
        skippedTicks += missed;
        nextTick += missed * intervalSeconds;
      }
    }
  }

  const aborted = signal?.aborted ?? false;
  const droppedLateLoops = late.takeAll().length;
  const seconds = (clock.now() - startedMs) / 1000;
  return tally.summary(seconds, { aborted, skippedTicks, droppedLateLoops });
}

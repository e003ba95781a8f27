/**
 * The DevOps data model of Timestream's sample generator (see ../shared WORKLOAD.md, "The DevOps
 * data model"): six regions of cells and silos, five microservices, and the metric and event series
 * they give at a host scale. Series order follows the original: region, cell, silo, microservice,
 * instance (then process, for events).
 */
import { validationError } from "../errors.js";
import { deriveSeed, SeededRandom } from "./random.js";

export interface RegionLayout {
  name: string;
  cellsPerRegion: number;
  silosPerCell: number;
}

/** `us_east_1` is written with underscores in the original; kept, so queries written for it still match. */
export const REGIONS: readonly RegionLayout[] = Object.freeze([
  { name: "us_east_1", cellsPerRegion: 15, silosPerCell: 3 },
  { name: "us-east-2", cellsPerRegion: 2, silosPerCell: 2 },
  { name: "us-west-1", cellsPerRegion: 6, silosPerCell: 2 },
  { name: "us-west-2", cellsPerRegion: 2, silosPerCell: 2 },
  { name: "eu-west-1", cellsPerRegion: 10, silosPerCell: 2 },
  { name: "ap-northeast-1", cellsPerRegion: 5, silosPerCell: 3 },
]);

export interface MicroserviceLayout {
  name: string;
  /** Instances per silo at host scale 1. */
  instancesPerSilo: number;
  instanceType: string;
  osVersion: string;
  processes: readonly string[];
  jdkVersion: string;
}

export const MICROSERVICES: readonly MicroserviceLayout[] = Object.freeze([
  {
    name: "apollo",
    instancesPerSilo: 3,
    instanceType: "r5.4xlarge",
    osVersion: "AL2",
    processes: ["server"],
    jdkVersion: "JDK_11",
  },
  {
    name: "athena",
    instancesPerSilo: 1,
    instanceType: "m5.8xlarge",
    osVersion: "AL2012",
    processes: ["server", "host_manager"],
    jdkVersion: "JDK_8",
  },
  {
    name: "demeter",
    instancesPerSilo: 1,
    instanceType: "c5.16xlarge",
    osVersion: "AL2012",
    processes: ["server", "host_manager"],
    jdkVersion: "JDK_8",
  },
  {
    name: "hercules",
    instancesPerSilo: 2,
    instanceType: "r5.4xlarge",
    osVersion: "AL2012",
    processes: ["server"],
    jdkVersion: "JDK_8",
  },
  {
    name: "zeus",
    instancesPerSilo: 3,
    instanceType: "m5.4xlarge",
    osVersion: "AL2",
    processes: ["server"],
    jdkVersion: "JDK_11",
  },
]);

export const METRIC_DIMENSIONS = Object.freeze([
  "region",
  "cell",
  "silo",
  "availability_zone",
  "microservice_name",
  "instance_type",
  "os_version",
  "instance_name",
] as const);

export const EVENT_DIMENSIONS = Object.freeze([
  "region",
  "cell",
  "silo",
  "availability_zone",
  "microservice_name",
  "instance_name",
  "process_name",
  "jdk_version",
] as const);

export type MetricDimensionName = (typeof METRIC_DIMENSIONS)[number];
export type EventDimensionName = (typeof EVENT_DIMENSIONS)[number];
export type MetricSeries = Readonly<Record<MetricDimensionName, string>>;
export type EventSeries = Readonly<Record<EventDimensionName, string>>;

/** The 20 DOUBLE measures of a metric series, in the order the original emits them. */
export const METRIC_MEASURES = Object.freeze([
  "cpu_user",
  "cpu_system",
  "cpu_steal",
  "cpu_iowait",
  "cpu_nice",
  "cpu_hi",
  "cpu_si",
  "cpu_idle",
  "memory_free",
  "memory_used",
  "memory_cached",
  "disk_io_reads",
  "disk_io_writes",
  "latency_per_read",
  "latency_per_write",
  "network_bytes_in",
  "network_bytes_out",
  "disk_used",
  "disk_free",
  "file_descriptors_in_use",
] as const);
export type MetricMeasureName = (typeof METRIC_MEASURES)[number];

/** The six small CPU measures, uniform in [0, 1); cpu_idle subtracts them in this order. */
export const SMALL_CPU_MEASURES = Object.freeze([
  "cpu_system",
  "cpu_steal",
  "cpu_iowait",
  "cpu_nice",
  "cpu_hi",
  "cpu_si",
] as const satisfies readonly MetricMeasureName[]);

/** The 12 measures after cpu_idle, uniform in [0, 100). */
export const PERCENT_MEASURES = Object.freeze(METRIC_MEASURES.slice(8) as MetricMeasureName[]);

/** The 5 measures of an event series, in the original's order, with their Timestream types. */
export const EVENT_MEASURES = Object.freeze([
  { name: "task_completed", type: "BIGINT" },
  { name: "task_end_state", type: "VARCHAR" },
  { name: "gc_reclaimed", type: "DOUBLE" },
  { name: "gc_pause", type: "DOUBLE" },
  { name: "memory_free", type: "DOUBLE" },
] as const);
export type EventMeasureName = (typeof EVENT_MEASURES)[number]["name"];

export const TASK_END_STATES = Object.freeze([
  "SUCCESS_WITH_NO_RESULT",
  "SUCCESS_WITH_RESULT",
  "INTERNAL_ERROR",
  "USER_ERROR",
  "UNKNOWN",
  "THROTTLED",
] as const);
export type TaskEndState = (typeof TASK_END_STATES)[number];
export const TASK_END_STATE_PROBABILITIES: readonly number[] = Object.freeze([
  0.2, 0.7, 0.01, 0.07, 0.01, 0.01,
]);

/** task_completed is uniform over the integers 0..500, both ends included (Python's randint). */
export const TASK_COMPLETED_MAX = 500;

/** cpu_user band of a host: which range its cpu_user is drawn from. */
export const CPU_BAND_NORMAL = 0; // 35–65
export const CPU_BAND_LOW = 1; // 0–10
export const CPU_BAND_HIGH = 2; // 85–95
/** Share of hosts in the low band, and again in the high band. */
export const CPU_EXTREME_SHARE = 0.2;

/** The original's seed; with our generator it gives the prefix `DEFAULT_PREFIX`, not `zaZswmJk`. */
export const DEFAULT_SEED = 12345;
/** The prefix of DEFAULT_SEED with our generator (Python's Mersenne Twister gave `zaZswmJk`). */
export const DEFAULT_PREFIX = "LxtYOnRY";
export const PREFIX_LENGTH = 8;
/** Host scale 1000 is a million metric series: 160 MB of doubles a loop. More is a mistake. */
export const MAX_HOST_SCALE = 1000;

/** Independent random streams derived from one seed (numbers are arbitrary, never reuse one). */
export const STREAM_PREFIX = 1;
export const STREAM_CPU_BANDS = 2;
export const STREAM_LOOP_VALUES = 3;
export const STREAM_LATE = 4;

export interface ModelOptions {
  /** Multiplies the instances per silo; a positive integer (default 1). */
  hostScale?: number;
  /** Any non-negative safe integer (default 12345, the original's). */
  seed?: number;
}

export interface DevOpsModel {
  readonly hostScale: number;
  readonly seed: number;
  /** The 8-character instance-name prefix, fixed by the seed. */
  readonly prefix: string;
  readonly metricSeries: readonly MetricSeries[];
  readonly eventSeries: readonly EventSeries[];
  /** For each event series, the index of its instance's metric series. */
  readonly eventHost: Int32Array;
  /** For each metric series, CPU_BAND_NORMAL | CPU_BAND_LOW | CPU_BAND_HIGH. */
  readonly cpuBand: Uint8Array;
}

export function validateHostScale(hostScale: unknown): number {
  if (typeof hostScale !== "number" || !Number.isInteger(hostScale) || hostScale < 1) {
    throw validationError(`hostScale must be a positive integer, got ${String(hostScale)}`, { hostScale });
  }
  if (hostScale > MAX_HOST_SCALE) {
    throw validationError(`hostScale must be at most ${MAX_HOST_SCALE}, got ${hostScale}`, { hostScale });
  }
  return hostScale;
}

export function validateSeed(seed: unknown): number {
  if (typeof seed !== "number" || !Number.isSafeInteger(seed) || seed < 0) {
    throw validationError(`seed must be a non-negative safe integer, got ${String(seed)}`, { seed });
  }
  return seed;
}

/** The instance-name prefix for a seed. */
export function instancePrefix(seed: number): string {
  return new SeededRandom(deriveSeed(validateSeed(seed), STREAM_PREFIX)).string(PREFIX_LENGTH);
}

export function buildModel(options: ModelOptions = {}): DevOpsModel {
  const hostScale = validateHostScale(options.hostScale ?? 1);
  const seed = validateSeed(options.seed ?? DEFAULT_SEED);
  const prefix = instancePrefix(seed);

  const metricSeries: MetricSeries[] = [];
  const eventSeries: EventSeries[] = [];
  const eventHost: number[] = [];
  for (const region of REGIONS) {
    for (let cellNumber = 1; cellNumber <= region.cellsPerRegion; cellNumber++) {
      const cell = `${region.name}-cell-${cellNumber}`;
      for (let siloNumber = 1; siloNumber <= region.silosPerCell; siloNumber++) {
        const silo = `${cell}-silo-${siloNumber}`;
        for (const service of MICROSERVICES) {
          const instances = service.instancesPerSilo * hostScale;
          // i counts from 0 within the microservice in each silo, so names repeat across silos;
          // the availability zone comes from the same i.
          for (let i = 0; i < instances; i++) {
            const availabilityZone = `${region.name}-${(i % 3) + 1}`;
            const instanceName = `i-${prefix}-${service.name}-${String(i).padStart(4, "0")}.amazonaws.com`;
            const host = metricSeries.length;
            metricSeries.push(
              Object.freeze({
                region: region.name,
                cell,
                silo,
                availability_zone: availabilityZone,
                microservice_name: service.name,
                instance_type: service.instanceType,
                os_version: service.osVersion,
                instance_name: instanceName,
              }),
            );
            for (const process of service.processes) {
              eventHost.push(host);
              eventSeries.push(
                Object.freeze({
                  region: region.name,
                  cell,
                  silo,
                  availability_zone: availabilityZone,
                  microservice_name: service.name,
                  instance_name: instanceName,
                  process_name: process,
                  jdk_version: service.jdkVersion,
                }),
              );
            }
          }
        }
      }
    }
  }

  return Object.freeze({
    hostScale,
    seed,
    prefix,
    metricSeries: Object.freeze(metricSeries),
    eventSeries: Object.freeze(eventSeries),
    eventHost: Int32Array.from(eventHost),
    cpuBand: assignCpuBands(metricSeries.length, seed),
  });
}

/**
 * As the original: shuffle the host ids with a seeded generator, the first 20% are low, the last
 * 20% high, the rest normal. The bands are fixed for the life of the model, not drawn per loop.
 */
function assignCpuBands(hosts: number, seed: number): Uint8Array {
  const ids = new Int32Array(hosts);
  for (let i = 0; i < hosts; i++) ids[i] = i;
  new SeededRandom(deriveSeed(seed, STREAM_CPU_BANDS)).shuffle(ids);
  const extreme = Math.floor(CPU_EXTREME_SHARE * hosts);
  const bands = new Uint8Array(hosts); // CPU_BAND_NORMAL is 0
  for (let k = 0; k < extreme; k++) {
    bands[ids[k]!] = CPU_BAND_LOW;
    bands[ids[hosts - 1 - k]!] = CPU_BAND_HIGH;
  }
  return bands;
}

/** Records one loop gives, for each record shape. */
export function recordsPerLoop(
  model: DevOpsModel,
  shape: "single" | "multi",
  includeEvents = true,
): { metrics: number; events: number; total: number } {
  const eventSeries = includeEvents ? model.eventSeries.length : 0;
  const metrics =
    shape === "single" ? model.metricSeries.length * METRIC_MEASURES.length : model.metricSeries.length;
  const events = shape === "single" ? eventSeries * EVENT_MEASURES.length : eventSeries;
  return { metrics, events, total: metrics + events };
}

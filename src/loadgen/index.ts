/**
 * The DevOps load generator: Timestream's sample metrics and events (1000 hosts' metrics and
 * 1200 processes' events at host scale 1), historical and real time, with late data. Loops are
 * generated as columns; sinks turn them into WriteRecords or stream payloads with the converters.
 */
export { type Clock, systemClock } from "./clock.js";
export {
  type EventColumns,
  type GeneratedLoop,
  type GenerateOptions,
  generateLoop,
  MAX_TIME_SECONDS,
  type MetricColumns,
  type RecordShape,
} from "./generate.js";
export { isLateLoop } from "./late.js";
export {
  buildModel,
  DEFAULT_PREFIX,
  DEFAULT_SEED,
  type DevOpsModel,
  EVENT_DIMENSIONS,
  EVENT_MEASURES,
  type EventDimensionName,
  type EventMeasureName,
  type EventSeries,
  instancePrefix,
  MAX_HOST_SCALE,
  METRIC_DIMENSIONS,
  METRIC_MEASURES,
  type MetricDimensionName,
  type MetricMeasureName,
  type MetricSeries,
  MICROSERVICES,
  type ModelOptions,
  REGIONS,
  recordsPerLoop,
  TASK_END_STATE_PROBABILITIES,
  TASK_END_STATES,
  type TaskEndState,
} from "./model.js";
export { SeededRandom } from "./random.js";
export {
  type HistoricalOptions,
  historical,
  type LoadProgress,
  type LoadSink,
  type LoadSinkResult,
  type RealtimeOptions,
  type RunOptions,
  type RunSummary,
  realtime,
} from "./run.js";
export {
  type ColumnarLoop,
  describeShapes,
  EVENTS_RECORD_NAME,
  inBatches,
  iterateFlatPayloads,
  iterateMultiMeasureRecords,
  iterateSingleMeasurePayloads,
  iterateSingleMeasureRecords,
  iterateStreamPayloads,
  iterateWriteRecords,
  METRICS_RECORD_NAME,
  type StreamPayload,
  toColumnarLoop,
  toFlatPayloads,
  toMultiMeasureRecords,
  toSingleMeasurePayloads,
  toSingleMeasureRecords,
  toStreamPayloads,
  toWriteRecords,
} from "./shapes.js";

/**
 * The flat JSON record format as the connector reads it (the later Python generator's format, see
 * docs/connector.md): one JSON object per series, every dimension a string, every measure a JSON
 * value, `time` in epoch seconds and `@type` naming the kind of record. The connector owns this
 * description, and the load generator writes to it (imports it from the stream part), so the two
 * cannot drift and the stream part never depends on the generator.
 *
 * A leaf file: it imports nothing, so any part may take it in without a cycle.
 */

/** The field holding the record kind ("metrics" or "events"). */
export const flatJsonTypeField = "@type";

/** The field holding the record's time, in epoch seconds (a JSON number). */
export const flatJsonTimeField = "time";

/** The multi-measure record name each kind of flat record becomes. */
export const flatJsonRecordNames = Object.freeze({
  metrics: "metrics_record",
  events: "events_record",
} as const);

/**
 * Measures whose Timestream type is not DOUBLE, by name; every other number is a DOUBLE measure.
 * (task_completed is an integer count, task_end_state a string.)
 */
export const flatJsonNonDoubleMeasures = Object.freeze({
  task_completed: "BIGINT",
  task_end_state: "VARCHAR",
} as const);

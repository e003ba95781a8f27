/**
 * The seed's export DAG (timestream-airflow-demo.py), for Hourglass: every hour, query the past
 * hour's cpu_nice from the Timestream-compatible store and write it to the lake as
 * `demo-airflow-ts-output/YYYY-MM-DD-HH/my_file.csv`, in the same CSV shape pandas wrote.
 * Catchup is on, so unpausing it runs the hours since yesterday's midnight, as in the seed.
 */
import { dag, exportQuery, task } from "hourglass";

/**
 * The seed's query, with two changes:
 *
 * - The interval is half-open, `time >= start AND time < end`. The seed's `time BETWEEN start AND
 *   end` includes both ends, so a point exactly on the hour lands in two hourly files (counted
 *   twice by anyone summing them) and a re-run of either hour cannot tell whose it is.
 *   `{{ sql.start }}` / `{{ sql.end }}` print the interval in the seed's literal format,
 *   `2021-09-22 13:00:00+00:00` (`{{ data_interval_start }}` would print Airflow's ISO form, with a T).
 * - ORDER BY adds the grouping columns after the bin: the seed's `ORDER BY binned_timestamp` leaves
 *   the order inside a bin to chance, so two runs over the same data could write different bytes.
 *   With a full order a re-run writes the same file (the same sha256 in its manifest).
 */
const query =
  "SELECT instance_name, BIN(time, 15s) AS binned_timestamp, " +
  "ROUND(AVG(measure_value::double), 2) AS avg_cpu_utilization, " +
  "ROUND(APPROX_PERCENTILE(measure_value::double, 0.9), 2) AS p90_cpu_utilization, " +
  "ROUND(APPROX_PERCENTILE(measure_value::double, 0.95), 2) AS p95_cpu_utilization, " +
  "ROUND(APPROX_PERCENTILE(measure_value::double, 0.99), 2) AS p99_cpu_utilization " +
  'FROM "airflow-db"."airflow-table" ' +
  "WHERE measure_name = 'cpu_nice' AND time >= '{{ sql.start }}' AND time < '{{ sql.end }}' " +
  "GROUP BY region, instance_name, availability_zone, BIN(time, 15s) " +
  "ORDER BY binned_timestamp ASC, region, instance_name, availability_zone";

export default dag({
  id: "timestream-airflow-demo",
  schedule: "0 */1 * * *",
  // The seed's days_ago(1): accepted, with a warning that a relative start date moves every day.
  startDate: { daysAgo: 1 },
  catchup: true,
  // Late data (the generator's --percent-late) re-exports its hour once it has been quiet for
  // 15 minutes, for hours that ended within the last day (docs/freshness.md).
  freshness: { reexportLateData: { settle: "15m", within: "24h" } },
  dagrunTimeoutMs: 2 * 60 * 60 * 1000,
  defaultArgs: { retries: 0, retryDelayMs: 5 * 60 * 1000 },
  tasks: [
    task({
      id: "ts_query",
      operator: exportQuery({
        query,
        bucket: "demo-airflow-ts-output",
        key: "{{ folder }}/my_file.csv",
        format: "csv",
        // pandas' to_csv wrote a leading unnamed index column: kept for parity with the seed's files.
        indexColumn: true,
        // The seed caught the empty-result error and uploaded nothing; we do the same, and log it.
        emptyResult: "skip",
      }),
    }),
  ],
});

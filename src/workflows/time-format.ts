/**
 * How interval times are written: in run ids, SQL literals, lake folders and templates. All UTC,
 * whatever the DAG's time zone, so that names sort and never repeat across DST changes.
 */

const pad = (value: number, width = 2): string => String(value).padStart(width, "0");

function parts(date: Date) {
  return {
    year: pad(date.getUTCFullYear(), 4),
    month: pad(date.getUTCMonth() + 1),
    day: pad(date.getUTCDate()),
    hour: pad(date.getUTCHours()),
    minute: pad(date.getUTCMinutes()),
    second: pad(date.getUTCSeconds()),
    millis: date.getUTCMilliseconds(),
  };
}

/** Python's isoformat() of an aware UTC datetime: 2021-09-21T01:00:00+00:00 (microseconds only when non-zero). */
export function isoUtc(date: Date): string {
  const p = parts(date);
  const fraction = p.millis === 0 ? "" : `.${pad(p.millis, 3)}000`;
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${fraction}+00:00`;
}

/** The seed's SQL timestamp literal text: 2021-09-22 13:00:00+00:00 (milliseconds only when non-zero). */
export function sqlTimestamp(date: Date): string {
  const p = parts(date);
  const fraction = p.millis === 0 ? "" : `.${pad(p.millis, 3)}`;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}${fraction}+00:00`;
}

/** The seed's lake folder for an interval: its start as YYYY-MM-DD-HH in UTC. */
export function intervalFolder(start: Date): string {
  const p = parts(start);
  return `${p.year}-${p.month}-${p.day}-${p.hour}`;
}

/** Airflow's `ds`: YYYY-MM-DD. */
export function dateStamp(date: Date): string {
  const p = parts(date);
  return `${p.year}-${p.month}-${p.day}`;
}

/** Airflow's `ts_nodash`: 20210922T130000. */
export function timeStampNoDash(date: Date): string {
  const p = parts(date);
  return `${p.year}${p.month}${p.day}T${p.hour}${p.minute}${p.second}`;
}

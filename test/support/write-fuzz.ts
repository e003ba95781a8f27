/**
 * A WriteRecords fuzzer over real HTTP: random and mutated bodies (weird names, NUL, quotes, huge
 * strings, wrong JSON types, deep nesting, broken JSON) sent to a running Hourglass server's
 * Timestream endpoint (and now and then its REST route), while /health is polled. It counts what
 * the server acknowledged, so the caller can check that every acknowledged record is queryable.
 *
 * Every record carries its own time (a counter in milliseconds), so no two records share a
 * (series, measure, time) key: each acknowledged record is one new row. Mutations never move a
 * time onto another valid time.
 *
 * Used by test/api/write-fuzz.test.ts (a few seconds) and bench/fuzz-write.ts (minutes).
 */
import { signedFetch, type TestCredentials } from "./sigv4.js";

export interface FuzzOptions {
  /** The server's base URL (http://127.0.0.1:port). */
  url: string;
  database: string;
  table: string;
  /** The store's "now": record times are taken from the hour before it. */
  nowMs: number;
  seconds: number;
  seed: number;
  /** Concurrent callers. */
  workers?: number;
  /** Signs the AWS calls with this key (the server checks signatures); the REST calls are not signed. */
  credentials?: TestCredentials;
}

export interface FuzzProblem {
  what: string;
  status: number;
  response: string;
  body: string;
}

export interface FuzzReport {
  calls: number;
  byStatus: Record<number, number>;
  /** Records the server said it ingested. */
  acknowledged: number;
  /** Answers that broke a rule: a 5xx, a body that is not the expected shape. */
  problems: FuzzProblem[];
  healthChecks: number;
  maxHealthMs: number;
}

/** A small seeded generator (mulberry32): a failing run is repeated with its seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WEIRD_NAMES = [
  "host\u0000",
  "\u0000",
  "a\u0001b",
  "tab\tname",
  'dq"name',
  "sq'name",
  "back\\slash",
  "semi;--comment",
  "'; DROP TABLE x; --",
  '"); DROP TABLE x; --',
  "Host",
  "HOST",
  "Region",
  "col:on",
  "time",
  "measure_name",
  "measure_value::double",
  "ts_name",
  "x".repeat(61),
  "é".repeat(31),
  "日本語",
  "emoji😀",
  " ",
  "",
  "a b",
  "\u2028",
  "\ud800",
];
const WEIRD_VALUES: unknown[] = [
  "",
  "0x10",
  "Infinity",
  "NaN",
  " 1",
  "1e400",
  "-0",
  "1.0",
  "+1",
  "TRUE",
  "1",
  "\u0000",
  "9223372036854775808",
  "-9223372036854775809",
  0,
  1.5,
  true,
  null,
  [],
  {},
  { Name: "x" },
  ["1"],
  "x".repeat(3000),
];
const MEASURES: { name: string; type: string; value: (r: () => number) => string }[] = [
  { name: "cpu", type: "DOUBLE", value: (r) => (r() * 100).toFixed(3) },
  { name: "tasks", type: "BIGINT", value: (r) => String(Math.floor(r() * 1000)) },
  { name: "state", type: "VARCHAR", value: (r) => (r() < 0.5 ? "ok" : "degraded") },
  { name: "healthy", type: "BOOLEAN", value: (r) => (r() < 0.5 ? "true" : "false") },
];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

class BodyMaker {
  private time: number;
  constructor(
    private readonly r: () => number,
    private readonly options: FuzzOptions,
    worker: number,
  ) {
    // Workers take disjoint time ranges: 10 minutes each.
    this.time = options.nowMs - 3_600_000 + worker * 600_000;
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.r() * list.length)]!;
  }

  private validRecord(): Record<string, Json> {
    this.time += 1;
    const host = `host-${Math.floor(this.r() * 50)}`;
    const dimensions: Json[] = [
      { Name: "host", Value: host },
      { Name: "region", Value: this.pick(["eu-west-1", "us-east-1"]) },
    ];
    if (this.r() < 0.2) {
      return {
        Dimensions: dimensions,
        MeasureName: "metrics",
        MeasureValueType: "MULTI",
        MeasureValues: [
          { Name: "load", Value: (this.r() * 4).toFixed(2), Type: "DOUBLE" },
          { Name: "procs", Value: String(Math.floor(this.r() * 300)), Type: "BIGINT" },
        ],
        Time: String(this.time),
        TimeUnit: "MILLISECONDS",
      };
    }
    const measure = this.pick(MEASURES);
    return {
      Dimensions: dimensions,
      MeasureName: measure.name,
      MeasureValue: measure.value(this.r),
      MeasureValueType: measure.type,
      Time: String(this.time),
      TimeUnit: "MILLISECONDS",
    };
  }

  private weirdValue(): Json {
    return this.pick(WEIRD_VALUES) as Json;
  }

  /** One mutation of a record, in place. */
  private mutate(record: Record<string, Json>): void {
    const dims = Array.isArray(record["Dimensions"]) ? record["Dimensions"] : undefined;
    const first = firstObject(dims);
    switch (Math.floor(this.r() * 16)) {
      case 0:
      case 1:
        if (first) first["Name"] = this.pick(WEIRD_NAMES);
        break;
      case 2:
        record["MeasureName"] = this.pick([...WEIRD_NAMES, "CPU", "Cpu"]);
        break;
      case 3: {
        const value = firstObject(
          Array.isArray(record["MeasureValues"]) ? record["MeasureValues"] : undefined,
        );
        if (value) value["Name"] = this.pick(WEIRD_NAMES);
        else record["MeasureValue"] = this.weirdValue();
        break;
      }
      case 4:
        record["MeasureValue"] = this.weirdValue();
        break;
      case 5:
        // Another type for a known measure name: the first type stays.
        record["MeasureValueType"] = this.pick([
          "DOUBLE",
          "BIGINT",
          "VARCHAR",
          "BOOLEAN",
          "TIMESTAMP",
          "MULTI",
          "FLOAT",
          "",
        ]);
        break;
      case 6:
        if (Array.isArray(dims))
          dims.push({ Name: this.pick(WEIRD_NAMES), Value: this.pick(["v", "\u0000", "v'\"\\"]) });
        break;
      case 7:
        if (first) first["Value"] = this.weirdValue();
        break;
      case 8:
        record["Dimensions"] = this.weirdValue();
        break;
      case 9:
        // Only invalid times: a valid one could land on another record's key.
        record["Time"] = this.pick([
          "",
          "-1",
          "1.5",
          "abc",
          "99999999999999999999999",
          "0x10",
          null,
          12,
          [],
        ] as Json[]);
        break;
      case 10:
        record["TimeUnit"] = this.pick([
          "HOURS",
          "constructor",
          "toString",
          "__proto__",
          "",
          5,
          null,
        ] as Json[]);
        break;
      case 11:
        record["Version"] = this.pick([0, -1, 1.5, "2", 2 ** 63, null, {}] as Json[]);
        break;
      case 12: {
        let deep: Json = "x";
        const depth = 1 + Math.floor(this.r() * 2000);
        for (let i = 0; i < depth; i++) deep = this.r() < 0.5 ? [deep] : { a: deep };
        record[this.pick(["Dimensions", "MeasureValue", "MeasureValues", "Extra"])] = deep;
        break;
      }
      case 13:
        record["MeasureValue"] = "x".repeat(1 + Math.floor(this.r() * 200_000));
        record["MeasureValueType"] = "VARCHAR";
        record["MeasureName"] = "state";
        break;
      case 14:
        record["MeasureValues"] = [
          { Name: "load", Value: "1", Type: "DOUBLE" },
          {
            Name: this.pick(["Load", "LOAD", "host", "Host", "load", "procs"]),
            Value: "2",
            Type: this.pick(["DOUBLE", "BIGINT", "VARCHAR"]),
          },
        ];
        record["MeasureValueType"] = "MULTI";
        record["MeasureName"] = "metrics";
        delete record["MeasureValue"];
        break;
      default:
        delete record[this.pick(["Dimensions", "MeasureName", "MeasureValue", "Time", "MeasureValueType"])];
    }
  }

  /** A request body (text: it may be broken JSON on purpose). */
  next(): { body: string; rest: boolean; records: number } {
    const r = this.r;
    const rest = r() < 0.15;
    const records: Json[] = [];
    const count = 1 + Math.floor(r() * 20);
    for (let i = 0; i < count; i++) {
      const record = this.validRecord();
      if (r() < 0.5) {
        const mutations = 1 + Math.floor(r() * 3);
        for (let m = 0; m < mutations; m++) this.mutate(record);
      }
      records.push(record);
    }
    const body: Record<string, Json> = { Records: records };
    if (!rest) {
      body["DatabaseName"] = this.options.database;
      body["TableName"] = this.options.table;
    }
    const roll = r();
    if (roll < 0.03) body["Records"] = this.weirdValue();
    else if (roll < 0.06)
      body["CommonAttributes"] = this.pick([
        { Dimensions: [{ Name: "host", Value: "h" }] },
        { Dimensions: 5 },
        [],
        "x",
        { TimeUnit: "SECONDS" },
      ] as Json[]);
    else if (roll < 0.08) body["DatabaseName"] = this.weirdValue();
    else if (roll < 0.1) body["Records"] = Array.from({ length: 101 }, () => this.validRecord());
    let text = JSON.stringify(body);
    const broken = r();
    if (broken < 0.02) text = text.slice(0, Math.floor(r() * text.length));
    else if (broken < 0.03) text = `${"[".repeat(100_000)}`;
    else if (broken < 0.04) text = "\u0000\u0001garbage";
    const records_ = Array.isArray(body["Records"]) ? body["Records"].length : 0;
    return { body: text, rest, records: records_ };
  }
}

function firstObject(list: Json[] | undefined): Record<string, Json> | undefined {
  const first = list?.[0];
  return first !== null && typeof first === "object" && !Array.isArray(first) ? first : undefined;
}

/** How many records a response says were ingested, or a problem when the answer breaks the rules. */
function judge(
  status: number,
  text: string,
  rest: boolean,
  records: number,
): { acknowledged: number; problem?: string } {
  if (status >= 500) return { acknowledged: 0, problem: "a server error" };
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { acknowledged: 0, problem: "the answer is not JSON" };
  }
  if (status === 200) {
    const total = (json["RecordsIngested"] as { Total?: unknown } | undefined)?.Total;
    if (typeof total !== "number") return { acknowledged: 0, problem: "no RecordsIngested.Total" };
    if (!rest && total !== records)
      return { acknowledged: total, problem: "200 without every record ingested" };
    return { acknowledged: total };
  }
  if (status === 419 && !rest) {
    const rejected = json["RejectedRecords"];
    if (!Array.isArray(rejected) || rejected.length === 0)
      return { acknowledged: 0, problem: "RejectedRecordsException without RejectedRecords" };
    return { acknowledged: records - rejected.length };
  }
  if (status >= 400 && status < 500) return { acknowledged: 0 };
  return { acknowledged: 0, problem: `unexpected status ${status}` };
}

/** Runs the fuzzer for `seconds`; resolves with what happened. */
export async function runWriteFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const report: FuzzReport = {
    calls: 0,
    byStatus: {},
    acknowledged: 0,
    problems: [],
    healthChecks: 0,
    maxHealthMs: 0,
  };
  const deadline = Date.now() + options.seconds * 1000;
  const restUrl = `${options.url}/api/v1/databases/${encodeURIComponent(options.database)}/tables/${encodeURIComponent(options.table)}/records`;

  const worker = async (n: number) => {
    const maker = new BodyMaker(random(options.seed * 1000 + n), options, n);
    while (Date.now() < deadline) {
      const { body, rest, records } = maker.next();
      const awsHeaders = {
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": "Timestream_20181101.WriteRecords",
      };
      const response = rest
        ? await fetch(restUrl, { method: "POST", headers: { "content-type": "application/json" }, body })
        : options.credentials
          ? await signedFetch(options.url, options.credentials, {
              service: "timestream",
              headers: awsHeaders,
              body,
            })
          : await fetch(options.url, { method: "POST", headers: awsHeaders, body });
      const text = await response.text();
      report.calls++;
      report.byStatus[response.status] = (report.byStatus[response.status] ?? 0) + 1;
      const verdict = judge(response.status, text, rest, records);
      report.acknowledged += verdict.acknowledged;
      if (verdict.problem && report.problems.length < 20) {
        report.problems.push({
          what: verdict.problem,
          status: response.status,
          response: text.slice(0, 2000),
          body: body.slice(0, 2000),
        });
      }
    }
  };

  let healthDone = false;
  const health = async () => {
    while (!healthDone) {
      const started = performance.now();
      const response = await fetch(`${options.url}/health`);
      await response.text();
      const ms = performance.now() - started;
      report.healthChecks++;
      report.maxHealthMs = Math.max(report.maxHealthMs, ms);
      if (response.status !== 200 && report.problems.length < 20) {
        report.problems.push({ what: "/health failed", status: response.status, response: "", body: "" });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const healthLoop = health();
  try {
    await Promise.all(Array.from({ length: options.workers ?? 4 }, (_, n) => worker(n)));
  } finally {
    healthDone = true;
    await healthLoop;
  }
  return report;
}

/**
 * What checking signatures costs: WriteRecords through the AWS SDK for JavaScript v3, 100 records
 * a call, 16 calls in flight, against a server that checks SigV4 and the same server with
 * `--no-auth`, next to the native batch path (store.writeRecords in process, 16 in flight, the
 * baseline). Also the verifier alone, per request. Prints records/s and the ratios; median of
 * `--rounds` rounds.
 *
 *   node --import tsx bench/sigv4.ts [--calls 400] [--rounds 3]
 */
import fs from "node:fs";
import {
  TimestreamWriteClient,
  WriteRecordsCommand,
  type WriteRecordsCommandInput,
} from "@aws-sdk/client-timestream-write";
import { createAccessKey, KeyRing, verifySignature } from "../src/access/index.js";
import { createApp } from "../src/api/app.js";
import { startHttpServer } from "../src/api/http-server.js";
import { TimestreamStore } from "../src/store/index.js";
import type { WriteRecord } from "../src/store/types.js";
import { signedFetch } from "../test/support/sigv4.js";
import { arg, fmt, median, tempDir } from "./util.js";

const calls = arg("calls", 400);
const rounds = arg("rounds", 3);
const RECORDS_PER_CALL = 100;
const IN_FLIGHT = 16;

const dir = tempDir("hg-bench-sigv4-");
const store = await TimestreamStore.open({ dir, sweepIntervalMs: 0 });
await store.createDatabase("bench-db");
await store.createTable({
  DatabaseName: "bench-db",
  TableName: "bench-table",
  RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
});
const key = createAccessKey(dir, "bench");
const keys = new KeyRing(dir);
const checked = await startHttpServer(createApp({ store, keys }));
const unchecked = await startHttpServer(createApp({ store, keys: null }));
const credentials = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
const client = (url: string) =>
  new TimestreamWriteClient({ endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 });

let timeMs = Date.now() - 3_600_000;
const hosts = Array.from({ length: RECORDS_PER_CALL }, (_, i) => [{ Name: "host", Value: `host-${i}` }]);
function nextCall(): WriteRecord[] {
  timeMs += 1;
  const time = String(timeMs);
  return hosts.map((Dimensions) => ({
    Dimensions,
    MeasureName: "cpu",
    MeasureValue: String(Math.random() * 100),
    MeasureValueType: "DOUBLE",
    Time: time,
  }));
}

async function run(send: (records: WriteRecord[]) => Promise<unknown>): Promise<number> {
  let sent = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (sent < calls) {
        sent++;
        await send(nextCall());
      }
    }),
  );
  return (calls * RECORDS_PER_CALL) / ((performance.now() - started) / 1000);
}

const target = { DatabaseName: "bench-db", TableName: "bench-table" };
const native = (records: WriteRecord[]) => store.writeRecords({ ...target, Records: records });
const sdkChecked = client(checked.url);
const sdkUnchecked = client(unchecked.url);
const viaChecked = (records: WriteRecord[]) =>
  sdkChecked.send(
    new WriteRecordsCommand({ ...target, Records: records as WriteRecordsCommandInput["Records"] }),
  );
const viaUnchecked = (records: WriteRecord[]) =>
  sdkUnchecked.send(
    new WriteRecordsCommand({ ...target, Records: records as WriteRecordsCommandInput["Records"] }),
  );

await run(viaChecked); // warm-up (the SDK's first call loads its middleware)
const results = { native: [] as number[], checked: [] as number[], unchecked: [] as number[] };
for (let r = 0; r < rounds; r++) {
  results.native.push(await run(native));
  results.unchecked.push(await run(viaUnchecked));
  results.checked.push(await run(viaChecked));
}

// The verifier alone: one signed 100-record WriteRecords request, verified repeatedly.
const body = JSON.stringify({ ...target, Records: nextCall() });
let captured: Request | null = null;
const capture = await startHttpServer({
  fetch: (request: Request) => {
    captured = request;
    return new Response("{}");
  },
});
await signedFetch(capture.url, credentials, {
  service: "timestream",
  headers: {
    "content-type": "application/x-amz-json-1.0",
    "x-amz-target": "Timestream_20181101.WriteRecords",
  },
  body,
});
await capture.close();
const headers = (captured as Request | null)!.headers;
const { createHash } = await import("node:crypto");
const verifyRuns = 5000;
const verifyStarted = performance.now();
for (let i = 0; i < verifyRuns; i++) {
  verifySignature(
    {
      method: "POST",
      rawPath: "/",
      rawQuery: "",
      headers,
      host: new URL(capture.url).host,
      s3: false,
      bodySha256: createHash("sha256").update(body).digest("hex"),
    },
    keys,
  );
}
const verifyUs = ((performance.now() - verifyStarted) * 1000) / verifyRuns;

const n = median(results.native);
const c = median(results.checked);
const u = median(results.unchecked);
console.log(
  `WriteRecords, ${RECORDS_PER_CALL} records a call, ${IN_FLIGHT} in flight, ${calls} calls, median of ${rounds} rounds:`,
);
console.log(`  native batch path (baseline):     ${fmt(n)} records/s`);
console.log(`  JS SDK v3, --no-auth:             ${fmt(u)} records/s  (${(u / n).toFixed(2)} of native)`);
console.log(
  `  JS SDK v3, signatures checked:    ${fmt(c)} records/s  (${(c / n).toFixed(2)} of native, ${(c / u).toFixed(2)} of --no-auth)`,
);
console.log(
  `  verifying one signed call (stat of keys.json, SHA-256 of ${body.length} bytes, HMACs): ${verifyUs.toFixed(1)} µs`,
);

sdkChecked.destroy();
sdkUnchecked.destroy();
await checked.close();
await unchecked.close();
await store.close();
fs.rmSync(dir, { recursive: true, force: true });

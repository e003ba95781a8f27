/**
 * S3 PutObject and GetObject through the AWS SDK for JavaScript v3 (S3Client, path style, its
 * default checksums) against `hourglass up` (a child process on loopback), for 1 MiB and 100 MiB
 * objects, against a plain copy of the same bytes between files on the same disk in this process:
 * `fs.copyFile`, a stream copy (read stream piped into a write stream), and a stream copy followed
 * by an fsync (the lake syncs each object before it appears). Each PutObject reads its body from a
 * file, each GetObject writes the object to a file, as `aws s3 cp` does. Operations alternate
 * (copy, put, get, …) so all see the same load. Prints MB/s (10^6 bytes) and ratios.
 *
 *   node --import tsx bench/s3-transfer.ts [--small-repeats 30] [--large-repeats 3] [--server-cpu-prof dir]
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { loadAverage, processCpuSeconds, serverNodeArgs, startServerChild } from "./aws-server.js";
import { arg, fmt, median, tempDir } from "./util.js";

const MiB = 1024 * 1024;
const sizes = [
  { label: "1 MiB", bytes: MiB, repeats: arg("small-repeats", 30) },
  { label: "100 MiB", bytes: 100 * MiB, repeats: arg("large-repeats", 3) },
];
const BUCKET = "bench-transfer";

const work = tempDir("hg-bench-s3-transfer-");
const loadBefore = loadAverage();
const server = await startServerChild(path.join(work, "server"), { nodeArgs: serverNodeArgs() });
const s3 = new S3Client({
  region: "us-east-1",
  endpoint: server.url,
  forcePathStyle: true,
  credentials: server.credentials,
  maxAttempts: 1,
});
await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));

type Operation = "copyFile" | "streamCopy" | "streamCopyFsync" | "put" | "get";
const operations: Operation[] = ["copyFile", "streamCopy", "streamCopyFsync", "put", "get"];

async function streamCopy(from: string, to: string, sync: boolean): Promise<void> {
  // `flush`: the file is synced before it is closed.
  await pipeline(
    fs.createReadStream(from, { highWaterMark: MiB }),
    fs.createWriteStream(to, { flush: sync }),
  );
}

async function runOperation(operation: Operation, source: string, bytes: number, n: number): Promise<void> {
  const target = path.join(work, `copy-${n}.bin`);
  const key = `objects/${bytes}/${n}.bin`;
  switch (operation) {
    case "copyFile":
      await fs.promises.copyFile(source, target);
      break;
    case "streamCopy":
      await streamCopy(source, target, false);
      break;
    case "streamCopyFsync":
      await streamCopy(source, target, true);
      break;
    case "put":
      await s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: key,
          Body: fs.createReadStream(source, { highWaterMark: MiB }),
          ContentLength: bytes,
        }),
      );
      break;
    case "get": {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      await pipeline(got.Body as NodeJS.ReadableStream, fs.createWriteStream(target));
      const size = fs.statSync(target).size;
      if (size !== bytes) throw new Error(`GetObject of ${key} gave ${size} bytes, not ${bytes}`);
      break;
    }
  }
  if (operation !== "put") fs.rmSync(target, { force: true });
}

const results: string[] = [];
for (const size of sizes) {
  const source = path.join(work, `source-${size.bytes}.bin`);
  fs.writeFileSync(source, randomBytes(size.bytes));
  const seconds = Object.fromEntries(operations.map((o) => [o, [] as number[]])) as Record<
    Operation,
    number[]
  >;
  const serverCpu: Record<"put" | "get", number> = { put: 0, get: 0 };
  const clientCpu: Record<"put" | "get", number> = { put: 0, get: 0 };
  // Warm-up: one of each (the object the first get reads is the warm-up put's).
  for (const operation of operations) await runOperation(operation, source, size.bytes, -1);
  for (let n = 0; n < size.repeats; n++) {
    // The order turns each round, so no operation always runs right after a big write (and the
    // get still follows the put of its object).
    const order = [...operations.slice(n % 3), ...operations.slice(0, n % 3)];
    for (const operation of order) {
      const cpu0 = processCpuSeconds(server.pid);
      const ownCpu0 = process.cpuUsage();
      const t0 = performance.now();
      await runOperation(operation, source, size.bytes, n);
      seconds[operation].push((performance.now() - t0) / 1000);
      if (operation === "put" || operation === "get") {
        serverCpu[operation] += processCpuSeconds(server.pid) - cpu0;
        const own = process.cpuUsage(ownCpu0);
        clientCpu[operation] += (own.user + own.system) / 1e6;
      }
    }
  }
  const rate = (operation: Operation) => size.bytes / 1e6 / median(seconds[operation]);
  const line = (name: string, operation: Operation, extra = "") =>
    `    ${name.padEnd(38)} ${fmt(rate(operation)).padStart(6)} MB/s (median ${(median(seconds[operation]) * 1000).toFixed(1)} ms)${extra}`;
  const megabytes = size.repeats * (size.bytes / 1e6);
  const cpuPerMb = (operation: "put" | "get") =>
    `; CPU ms/MB: client ${((clientCpu[operation] / megabytes) * 1000).toFixed(2)}, server ${((serverCpu[operation] / megabytes) * 1000).toFixed(2)}`;
  results.push(
    `  ${size.label} objects, ${size.repeats} of each:`,
    line("fs.copyFile", "copyFile"),
    line("stream copy", "streamCopy"),
    line("stream copy + fsync", "streamCopyFsync"),
    line("PutObject (JS SDK -> hourglass up)", "put", cpuPerMb("put")),
    line("GetObject (JS SDK -> hourglass up)", "get", cpuPerMb("get")),
    `    ratios to the stream copy: PutObject ${(rate("put") / rate("streamCopy")).toFixed(2)}, GetObject ${(rate("get") / rate("streamCopy")).toFixed(2)}; to the stream copy + fsync: PutObject ${(rate("put") / rate("streamCopyFsync")).toFixed(2)}; to copyFile: PutObject ${(rate("put") / rate("copyFile")).toFixed(2)}, GetObject ${(rate("get") / rate("copyFile")).toFixed(2)}`,
  );
}

s3.destroy();
await server.stop();
fs.rmSync(work, { recursive: true, force: true });
console.log("S3 PutObject / GetObject through the JS SDK vs a plain file copy of the same bytes");
console.log(`  load average: ${loadBefore} at the start, ${loadAverage()} at the end`);
console.log(`  signatures: ${server.auth}`);
for (const line of results) console.log(line);

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { openLocalLake } from "../../src/lake/index.js";
import { readStream, tempRoot } from "./helpers.js";

const objectBytes = 5 * 1024 * 1024;
const versions = 40;
const writerScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "replace-writer.ts");
const writerDeadlineMs = 90_000;

/** The fill byte of a complete version, or a description of what is wrong with `content`. */
function versionOf(content: Uint8Array): number | string {
  if (content.byteLength !== objectBytes) return `size ${content.byteLength}`;
  const fill = content[0]!;
  for (let index = 0; index < content.byteLength; index += 4096) {
    if (content[index] !== fill) return `mixed bytes (${fill} then ${content[index]} at ${index})`;
  }
  if (content[content.byteLength - 1] !== fill) return "mixed last byte";
  return fill;
}

const md5OfVersion = new Map<string, number>();
for (let version = 0; version <= versions; version++) {
  const fill = version % 256;
  md5OfVersion.set(createHash("md5").update(Buffer.alloc(objectBytes, fill)).digest("hex"), fill);
}

describe("local lake: concurrent replace and read", () => {
  const root = tempRoot();
  const lakeRoot = path.join(root, "lake");
  const lake = openLocalLake(lakeRoot);
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("a reader listing and reading while a writer replaces a 5 MB object only ever sees whole versions", async () => {
    const bucket = "race";
    const key = "2024-03-01-00/my_file.csv";
    await lake.createBucket(bucket);
    await lake.putObject(bucket, key, Buffer.alloc(objectBytes, 0));

    const writer = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        writerScript,
        ...[lakeRoot, bucket, key, versions].map((arg) => JSON.stringify(arg)),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let writerOutput = "";
    let writerErrors = "";
    writer.stdout.on("data", (chunk: Buffer) => {
      writerOutput += chunk.toString();
    });
    writer.stderr.on("data", (chunk: Buffer) => {
      writerErrors += chunk.toString();
    });
    let writerRunning = true;
    const writerExit = new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        writer.kill("SIGKILL");
        reject(new Error(`the writer did not finish within ${writerDeadlineMs} ms`));
      }, writerDeadlineMs);
      writer.on("exit", (code) => {
        clearTimeout(timer);
        writerRunning = false;
        resolve(code);
      });
    });

    const problems: string[] = [];
    const seenVersions = new Set<number>();
    let reads = 0;
    let readsWhileWriting = 0;
    while (writerRunning) {
      const writing = writerOutput.includes("put 1\n") && !writerOutput.includes("done");
      const content =
        reads % 3 === 2
          ? await readStream(lake.getObjectStream(bucket, key))
          : await lake.getObject(bucket, key);
      const version = versionOf(content);
      if (typeof version === "string") problems.push(`read ${reads}: ${version}`);
      else seenVersions.add(version);

      const listing = await lake.listObjects(bucket, { prefix: "2024-03-01-00/" });
      if (listing.objects.length !== 1 || listing.objects[0]?.key !== key) {
        problems.push(`listing ${reads}: ${JSON.stringify(listing.objects.map((object) => object.key))}`);
      } else {
        const [listed] = listing.objects;
        if (listed.size !== objectBytes) problems.push(`listing ${reads}: size ${listed.size}`);
        if (!md5OfVersion.has(listed.etag))
          problems.push(`listing ${reads}: etag ${listed.etag} of no version`);
      }
      const head = await lake.headObject(bucket, key);
      if (head === null || head.size !== objectBytes || !md5OfVersion.has(head.etag)) {
        problems.push(`head ${reads}: ${JSON.stringify(head)}`);
      }
      reads++;
      if (writing) readsWhileWriting++;
    }
    assert.equal(await writerExit, 0, writerErrors);
    assert.deepEqual(problems, []);
    assert.ok(readsWhileWriting >= 5, `only ${readsWhileWriting} reads overlapped the writer`);
    assert.ok(seenVersions.size >= 3, `the reader saw only versions ${[...seenVersions].join(", ")}`);
    assert.equal(versionOf(await lake.getObject(bucket, key)), versions % 256, "the last put wins");
    const leftovers = fs.readdirSync(path.join(lakeRoot, ".tmp"));
    assert.deepEqual(leftovers, [], "no temp file is left behind");
  });
});

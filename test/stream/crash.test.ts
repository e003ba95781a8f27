import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { openStreamService } from "../../src/stream/index.js";
import { readAll, removeDir, tempDir, text, withDeadline } from "./helpers.js";

const writerScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "crash-writer.ts");

/** Runs the writer until it has printed `killAfterLines` acknowledged records, then SIGKILLs it. */
async function runWriterAndKill(dir: string, killAfterLines: number): Promise<string[]> {
  const child = spawn(process.execPath, ["--import", "tsx", writerScript, dir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let errors = "";
  let lines = 0;
  child.stderr.on("data", (chunk: Buffer) => {
    errors += chunk.toString();
  });
  child.stdout.on("data", (chunk: Buffer) => {
    const textChunk = chunk.toString();
    output += textChunk;
    for (const char of textChunk) if (char === "\n") lines++;
    if (lines >= killAfterLines && child.exitCode === null && !child.killed) child.kill("SIGKILL");
  });
  const [code, signal] = (await withDeadline(once(child, "exit"), 60_000, "crash writer")) as [
    number | null,
    string | null,
  ];
  assert.equal(signal, "SIGKILL", `the writer ended by itself (code ${code}): ${errors}`);
  // The last line may be cut in the middle: only whole lines were acknowledged and printed.
  return output
    .split("\n")
    .slice(0, -1)
    .filter((line) => line !== "ready");
}

describe("crash safety", () => {
  const dir = tempDir("hourglass-crash-");
  after(() => removeDir(dir));

  it("keeps every acknowledged record when the writer is killed with SIGKILL", async () => {
    const seed = Date.now();
    const acknowledged: string[] = [];
    for (let round = 0; round < 3; round++) {
      // A pseudo-random moment per round, printed on failure so a run can be reproduced.
      const killAfterLines = 200 + ((seed * (round + 7)) % 3000);
      const lines = await runWriterAndKill(dir, killAfterLines);
      assert.ok(lines.length >= killAfterLines, `round ${round}: ${lines.length} lines (seed ${seed})`);
      acknowledged.push(...lines);

      const service = await openStreamService({ dir, sweepIntervalMs: 0, segmentBytes: 64 * 1024 });
      try {
        const stored = new Map<string, string>();
        for (const shard of (await service.describeStream("crash")).Shards) {
          const all = await readAll(
            service,
            await service.getShardIterator("crash", shard.ShardId, "TRIM_HORIZON"),
          );
          all.forEach((record, i) => {
            if (i > 0) {
              const gap = BigInt(record.SequenceNumber) - BigInt(all[i - 1]!.SequenceNumber);
              assert.equal(gap, 1n, "sequence numbers within a shard have no holes");
            }
            stored.set(record.SequenceNumber, `${shard.ShardId} ${text(record.Data)}`);
          });
        }
        for (const line of acknowledged) {
          const space = line.indexOf(" ");
          const seq = line.slice(0, space);
          assert.equal(
            stored.get(seq),
            line.slice(space + 1),
            `acknowledged ${seq} (seed ${seed}, round ${round})`,
          );
        }
      } finally {
        await service.close();
      }
    }
  });
});

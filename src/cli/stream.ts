/**
 * `hourglass stream …`: create, list, describe, delete, put, get, and resharding (split, merge,
 * reshard). Over HTTP when a server runs for
 * the state folder, else on the state folder's streams directly (one process at a time).
 */
import fs from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import { HttpClient, RemoteStream } from "../api/remote.js";
import { validationError } from "../errors.js";
import type { StreamClient } from "../stream/connector/index.js";
// The parsers and limits modules themselves, not the parts' index.ts files: option parsing and
// --help need them without loading the stream (see main.ts); the stream is imported when a command
// runs on the state folder.
import { parseReadPosition } from "../stream/connector/read-position.js";
import type { PutRecordInput } from "../stream/index.js";
import * as streamLimits from "../stream/limits.js";
import { formatShardId, parseSequenceNumber } from "../stream/sequence-number.js";
import { configFrom, serverUrl } from "./context.js";
import { printJson, renderTable } from "./output.js";

/** Commander parser for an integer option in [min, max]. */
export function integerOption(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
    }
    return n;
  };
}

/** Runs `work` with the streams: the server's over HTTP when one runs, else the state folder's. */
export async function withStreams<T>(
  command: Command,
  work: (streams: StreamClient, where: { remote: boolean }) => Promise<T>,
): Promise<T> {
  const config = await configFrom(command);
  const url = serverUrl(command, config);
  if (url) return work(new RemoteStream(new HttpClient(url)), { remote: true });
  const [{ openStreamService }, { localStreamClient }] = await Promise.all([
    import("../stream/index.js"),
    import("../stream/connector/index.js"),
  ]);
  const service = await openStreamService({ dir: config.stateDir, sweepIntervalMs: 0 });
  try {
    return await work(localStreamClient(service), { remote: false });
  } finally {
    await service.close();
  }
}

/** `3` or `shardId-000000000003`. */
function shardIdOption(value: string): string {
  if (/^\d{1,12}$/.test(value)) return `shardId-${value.padStart(12, "0")}`;
  if (/^shardId-\d{12}$/.test(value)) return value;
  throw new InvalidArgumentError("must be a shard id (shardId-000000000000) or a shard number");
}

function positionOption(value: string): string {
  try {
    parseReadPosition(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return value;
}

async function readInput(o: { data?: string; file?: string }): Promise<Buffer> {
  if (o.data !== undefined && o.file !== undefined) throw validationError("give --data or --file, not both");
  if (o.data !== undefined) return Buffer.from(o.data, "utf8");
  if (o.file !== undefined && o.file !== "-") {
    if (!fs.existsSync(o.file)) throw validationError(`file ${o.file} does not exist`);
    return fs.readFileSync(o.file);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const input = Buffer.concat(chunks);
  // `echo '{…}' | hourglass stream put …`: the newline echo adds is not part of the record.
  const end =
    input.at(-1) === 0x0a ? (input.at(-2) === 0x0d ? input.length - 2 : input.length - 1) : input.length;
  return input.subarray(0, end);
}

/** Splits on newlines (a trailing one and empty lines are skipped). */
function lines(input: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= input.length; i++) {
    if (i === input.length || input[i] === 0x0a) {
      let end = i;
      if (end > start && input[end - 1] === 0x0d) end--;
      if (end > start) out.push(input.subarray(start, end));
      start = i + 1;
    }
  }
  return out;
}

/** PutRecords calls within 500 records and 5 MiB (oversized records go alone, for the stream to refuse). */
function* calls(records: PutRecordInput[]): Generator<{ first: number; records: PutRecordInput[] }> {
  let first = 0;
  let bytes = 0;
  for (let i = 0; i < records.length; i++) {
    const size = records[i]!.Data.length + Buffer.byteLength(records[i]!.PartitionKey);
    const count = i - first;
    if (
      count > 0 &&
      (count === streamLimits.maxRecordsPerPutRecords ||
        bytes + size > streamLimits.maxPutRecordsRequestBytes)
    ) {
      yield { first, records: records.slice(first, i) };
      first = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (first < records.length) yield { first, records: records.slice(first) };
}

/** A sequence number names its shard: `--from at:SEQ` / `after:SEQ` read that shard alone. */
function shardOfPosition(from: string): string[] | undefined {
  const position = parseReadPosition(from);
  if (position.type !== "AT_SEQUENCE_NUMBER" && position.type !== "AFTER_SEQUENCE_NUMBER") return undefined;
  return [formatShardId(parseSequenceNumber(position.sequenceNumber).shardIndex)];
}

interface GetFlags {
  shard?: string;
  from: string;
  limit: number;
  follow?: boolean;
  base64?: boolean;
}

async function printShard(
  streams: StreamClient,
  name: string,
  shardId: string,
  o: GetFlags,
  stopped: () => boolean,
): Promise<void> {
  let from = o.from;
  let printed = 0;
  const followWaitMs = 2_000;
  while (!stopped()) {
    const want = o.follow
      ? streamLimits.maxGetRecordsLimit
      : Math.min(streamLimits.maxGetRecordsLimit, o.limit - printed);
    if (want <= 0) return;
    const page = await streams.readRecords(name, shardId, from, {
      limit: want,
      waitMs: o.follow ? followWaitMs : 0,
    });
    let text = "";
    for (const r of page.Records) {
      text += `${JSON.stringify({
        ShardId: shardId,
        SequenceNumber: r.SequenceNumber,
        ApproximateArrivalTimestamp: r.ApproximateArrivalTimestamp.toISOString(),
        PartitionKey: r.PartitionKey,
        Data: Buffer.from(r.Data).toString(o.base64 ? "base64" : "utf8"),
      })}\n`;
    }
    if (text) process.stdout.write(text);
    printed += page.Records.length;
    if (page.NextShardIterator === null) return;
    from = `iterator:${page.NextShardIterator}`;
    // Without --follow, an empty page is the shard's tip.
    if (!o.follow && page.Records.length === 0) return;
  }
}

export function registerStream(program: Command): void {
  const stream = program
    .command("stream")
    .description("streams (Kinesis model): create, list, describe, delete, put and get records");

  stream
    .command("create <name>")
    .description("create a stream")
    .option("--shards <n>", "number of shards (1-64)", integerOption(1, streamLimits.maxShardCount), 1)
    .option(
      "--retention-hours <h>",
      "how long records are kept (24-8760 hours; default 24)",
      integerOption(streamLimits.minRetentionHours, streamLimits.maxRetentionHours),
    )
    .addHelpText(
      "after",
      "\nExample:\n  hourglass stream create airflow-timestream --shards 4 --retention-hours 48",
    )
    .action(async (name: string, o: { shards: number; retentionHours?: number }, cmd: Command) => {
      await withStreams(cmd, async (streams) =>
        printJson(
          await streams.createStream(
            name,
            o.shards,
            o.retentionHours === undefined ? {} : { retentionHours: o.retentionHours },
          ),
        ),
      );
    });

  stream
    .command("list")
    .description("list streams with their shards and retention")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExample:\n  hourglass stream list")
    .action(async (o: { json?: boolean }, cmd: Command) => {
      await withStreams(cmd, async (streams) => {
        const names = await streams.listStreams();
        const descriptions = await Promise.all(names.map((n) => streams.describeStream(n)));
        if (o.json) return printJson(descriptions);
        console.log(
          renderTable(
            ["StreamName", "Shards", "RetentionHours", "CreationTime"],
            descriptions.map((d) => [
              d.StreamName,
              // Open shards: closed ones (split or merged) take no records.
              String(d.Shards.filter((s) => s.SequenceNumberRange.EndingSequenceNumber === undefined).length),
              String(d.RetentionPeriodHours),
              d.StreamCreationTimestamp.toISOString(),
            ]),
          ),
        );
      });
    });

  stream
    .command("describe <name>")
    .description("describe a stream, with each shard's records and sequence numbers")
    .addHelpText("after", "\nExample:\n  hourglass stream describe airflow-timestream")
    .action(async (name: string, _o, cmd: Command) => {
      await withStreams(cmd, async (streams) => {
        const description = await streams.describeStream(name);
        const stats = await streams.getShardStats(name);
        printJson({ ...description, ShardStats: stats });
      });
    });

  stream
    .command("split")
    .argument("<name>", "the stream")
    .argument("<shard>", "the open shard to split: shardId-000000000001 or 1", shardIdOption)
    .description(
      "split an open shard in two (Kinesis SplitShard): the shard closes, two children take its hash keys",
    )
    .option(
      "--at <hash-key>",
      "first hash key of the upper child (decimal, inside the shard's range, after its first key); default: the middle",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  hourglass stream split airflow-timestream 0\n  hourglass stream split airflow-timestream shardId-000000000001 --at 255211775190703847597530955573826158592\n\nReaders of the closed shard get its records to the end, then its children (GetRecords' ChildShards).\nPrints the stream's description.",
    )
    .action(async (name: string, shard: string, o: { at?: string }, cmd: Command) => {
      const shardId = shard;
      await withStreams(cmd, async (streams) => {
        let at = o.at;
        if (at === undefined) {
          const described = (await streams.describeStream(name)).Shards.find((s) => s.ShardId === shardId);
          if (!described) {
            throw validationError(
              `shard ${shardId} is not in stream ${name}; see \`hourglass stream describe ${name}\``,
            );
          }
          const { StartingHashKey, EndingHashKey } = described.HashKeyRange;
          at = ((BigInt(StartingHashKey) + BigInt(EndingHashKey) + 1n) / 2n).toString();
        }
        await streams.splitShard(name, shardId, at);
        printJson(await streams.describeStream(name));
      });
    });

  stream
    .command("merge")
    .argument("<name>", "the stream")
    .argument("<shard>", "an open shard: shardId-000000000002 or 2", shardIdOption)
    .argument("<adjacent-shard>", "the open shard whose hash key range touches it", shardIdOption)
    .description("merge two open shards whose hash key ranges touch (Kinesis MergeShards) into one child")
    .addHelpText(
      "after",
      "\nExample:\n  hourglass stream merge airflow-timestream 2 3\n\nBoth shards close; their child is read after both. Prints the stream's description.",
    )
    .action(async (name: string, shard: string, adjacent: string, _o, cmd: Command) => {
      await withStreams(cmd, async (streams) => {
        await streams.mergeShards(name, shard, adjacent);
        printJson(await streams.describeStream(name));
      });
    });

  stream
    .command("reshard <name>")
    .alias("update-shard-count")
    .description(
      "change the number of open shards (Kinesis UpdateShardCount, UNIFORM_SCALING) through splits and merges",
    )
    .requiredOption(
      "--shards <n>",
      `the target count: at most double and at least half the current one, at most ${streamLimits.maxShardCount}`,
      integerOption(1, 1_000_000),
    )
    .addHelpText(
      "after",
      "\nExamples:\n  hourglass stream reshard airflow-timestream --shards 4\n  hourglass stream update-shard-count airflow-timestream --shards 3\n\nThe new shards have even hash key ranges; short-lived shards may be made on the way, as Kinesis does.\nAt most 10 changes a rolling 24 hours per stream. Prints { StreamName, CurrentShardCount, TargetShardCount }.",
    )
    .action(async (name: string, o: { shards: number }, cmd: Command) => {
      await withStreams(cmd, async (streams) => printJson(await streams.updateShardCount(name, o.shards)));
    });

  stream
    .command("delete <name>")
    .description("delete a stream and all its records")
    .addHelpText("after", "\nExample:\n  hourglass stream delete airflow-timestream")
    .action(async (name: string, _o, cmd: Command) => {
      await withStreams(cmd, async (streams) => {
        await streams.deleteStream(name);
        console.log(`deleted stream ${name}`);
      });
    });

  stream
    .command("put <name>")
    .description("put records: --data, --file or standard input; one record, or one per line with --lines")
    .requiredOption("--partition-key <key>", "partition key (1-256 characters): picks the shard")
    .option("--data <text>", "the record's data")
    .option("-f, --file <path>", "read the data from a file (- for standard input)")
    .option("--lines", "one record per line of the input (empty lines are skipped)")
    .addHelpText(
      "after",
      `\nExamples:\n  hourglass stream put airflow-timestream --partition-key host-1 --data '{"MeasureName":"cpu","MeasureValue":"1.5","Time":"${Math.floor(Date.now() / 1000)}","TimeUnit":"SECONDS","host":"host-1"}'\n  cat records.jsonl | hourglass stream put airflow-timestream --partition-key host-1 --lines\n\nPrints the shard and sequence number of each record; refused records (over 1 MiB, a bad key) are listed on stderr and the exit code is 1.`,
    )
    .action(
      async (
        name: string,
        o: { partitionKey: string; data?: string; file?: string; lines?: boolean },
        cmd: Command,
      ) => {
        const input = await readInput(o);
        const payloads = o.lines ? lines(input) : [input];
        if (payloads.length === 0) throw validationError("there are no records to put (the input is empty)");
        const records = payloads.map((data) => ({ Data: data, PartitionKey: o.partitionKey }));
        await withStreams(cmd, async (streams) => {
          let refused = 0;
          for (const call of calls(records)) {
            const result = await streams.putRecords(name, call.records);
            let out = "";
            result.Records.forEach((entry, i) => {
              if ("ErrorCode" in entry) {
                refused++;
                process.stderr.write(`record ${call.first + i + 1} refused: ${entry.ErrorMessage}\n`);
              } else {
                out += `${entry.ShardId} ${entry.SequenceNumber}\n`;
              }
            });
            process.stdout.write(out);
          }
          if (refused > 0) {
            process.stderr.write(`${refused} of ${records.length} record(s) refused\n`);
            process.exitCode = 1;
          }
        });
      },
    );

  stream
    .command("get <name>")
    .description("print records as JSON lines (Data as UTF-8 text), from every shard or one")
    .option(
      "--shard <id>",
      "only this shard (shardId-000000000001 or 1); at:/after: name their own",
      shardIdOption,
    )
    .option(
      "--from <position>",
      "trim-horizon, latest, at:SEQ, after:SEQ or time:ISO-8601",
      positionOption,
      "trim-horizon",
    )
    .option(
      "--limit <n>",
      "at most this many records per shard (without --follow)",
      integerOption(1, 1_000_000_000),
      100,
    )
    .option("--follow", "keep printing new records as they arrive, until Ctrl+C")
    .option("--base64", "print Data as base64 (for binary records)")
    .addHelpText(
      "after",
      "\nExamples:\n  hourglass stream get airflow-timestream --limit 5\n  hourglass stream get airflow-timestream --shard 0 --from after:49000000000000000000000000000000000000000000000000000007\n  hourglass stream get airflow-timestream --from latest --follow",
    )
    .action(async (name: string, o: GetFlags, cmd: Command) => {
      let stop = false;
      const onSignal = () => {
        stop = true;
      };
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        await withStreams(cmd, async (streams) => {
          const shards = o.shard
            ? [o.shard]
            : (shardOfPosition(o.from) ?? (await streams.describeStream(name)).Shards.map((s) => s.ShardId));
          if (o.follow) {
            await Promise.all(shards.map((shardId) => printShard(streams, name, shardId, o, () => stop)));
          } else {
            for (const shardId of shards) await printShard(streams, name, shardId, o, () => stop);
          }
        });
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}

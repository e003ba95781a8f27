import { EventEmitter } from "node:events";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { conflict, HourglassError, notFound, toHourglassError, validationError } from "../errors.js";
import { fsyncDirectory } from "./fs-durability.js";
import { PartitionKeyRouter } from "./key-router.js";
import { defaultRetentionHours, maxGetRecordsBytes, maxGetRecordsLimit, maxShardCount } from "./limits.js";
import { formatSequenceNumber, formatShardId, parseSequenceNumber, parseShardId } from "./sequence-number.js";
import { SerialQueue } from "./serial-queue.js";
import { decodeShardIterator, encodeShardIterator } from "./shard-iterator.js";
import {
  childrenOf,
  initialLayout,
  isOpen,
  lineageOf,
  openShards,
  planMerge,
  planSplit,
  planUniformScaling,
  type ShardMeta,
} from "./shard-layout.js";
import { type RecoveryNote, ShardLog } from "./shard-log.js";
import { acquireStateLock } from "./state-lock.js";
import { readStreamMeta, type StreamMeta, writeStreamMeta } from "./stream-meta.js";
import type {
  GetRecordsOutput,
  PutRecordFailure,
  PutRecordInput,
  PutRecordOutput,
  PutRecordsOutput,
  RecordPageOutput,
  ShardDescription,
  ShardFilter,
  ShardIteratorOptions,
  ShardIteratorType,
  ShardStats,
  StreamDescription,
  StreamEventMap,
  StreamRecord,
  StreamService,
  StreamServiceOptions,
  UpdateShardCountOutput,
} from "./types.js";
import {
  prepareRecords,
  type ShardFrames,
  validateGetRecordsLimit,
  validateRecordList,
  validateRequestBytes,
  validateRetentionHours,
  validateShardCount,
  validateStreamName,
} from "./validate.js";

const defaultSegmentBytes = 64 * 1024 * 1024;
const defaultSweepIntervalMs = 60_000;
const hourMs = 3_600_000;
/** Folders in streams/ that are not streams start with "~", which stream names cannot contain. */
const scratchPrefix = "~";

/** UpdateShardCount may run this many times a rolling 24 hours, as Kinesis. */
const maxScalingsPerDay = 10;
const dayMs = 24 * hourMs;
const shardFolderPattern = /^shardId-(\d{12})$/;

interface StreamState {
  meta: StreamMeta;
  dir: string;
  /** Every shard ever made, by index (closed ones stay readable). */
  shards: ShardLog[];
  layout: ShardMeta[];
  deleted: boolean;
  /** Routes to the open shards; replaced by each reshard. */
  router: PartitionKeyRouter;
  /** A reshard is being applied (StreamStatus UPDATING); a second one is refused meanwhile. */
  updating: boolean;
}

/** A PutRecords call waiting for the next group commit. */
interface PendingPut {
  stream: StreamState;
  /** The call's records and the router that framed them: a reshard before the write frames them again. */
  records: readonly unknown[];
  router: PartitionKeyRouter;
  frames: ShardFrames[];
  results: (PutRecordOutput | PutRecordFailure)[];
  resolve: () => void;
  reject: (error: HourglassError) => void;
}

/** Opens the streams of a state folder, repairing what a crash left, and starts the retention sweep. */
export async function openStreamService(options: StreamServiceOptions): Promise<StreamService> {
  validateOptions(options);
  const streamsDir = path.join(options.dir, "streams");
  await mkdir(streamsDir, { recursive: true });
  const release = await acquireStateLock(path.join(options.dir, "streams.lock"));
  try {
    const service = new LocalStreamService(options, streamsDir, release);
    await service.load();
    return service;
  } catch (error) {
    await release();
    throw error;
  }
}

class LocalStreamService implements StreamService {
  readonly recovery: RecoveryNote[] = [];
  private readonly streams = new Map<string, StreamState>();
  private readonly queue = new SerialQueue();
  private readonly events = new EventEmitter();
  private readonly clock: () => number;
  private readonly sync: boolean;
  private readonly segmentBytes: number;
  private readonly arnPrefix: string;
  private pending: PendingPut[] = [];
  private flushQueued = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly options: StreamServiceOptions,
    private readonly streamsDir: string,
    private readonly releaseLock: () => Promise<void>,
  ) {
    this.clock = options.clock ?? Date.now;
    this.sync = (options.syncPolicy ?? "fsync") === "fsync";
    this.segmentBytes = options.segmentBytes ?? defaultSegmentBytes;
    this.arnPrefix = `arn:aws:kinesis:${options.region ?? "us-east-1"}:${options.accountId ?? "000000000000"}:stream/`;
  }

  async load(): Promise<void> {
    for (const entry of await readdir(this.streamsDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = path.join(this.streamsDir, entry.name);
      if (entry.name.startsWith(scratchPrefix)) {
        // A create or delete that a crash interrupted: neither was acknowledged.
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      const meta = await readStreamMeta(dir).catch((error: unknown) => {
        throw new HourglassError("Internal", `cannot read stream ${entry.name}: ${String(error)}`, {
          cause: error,
        });
      });
      this.streams.set(meta.name, await this.openStream(meta, dir));
    }
    await this.sweepRetention();
    const sweepIntervalMs = this.options.sweepIntervalMs ?? defaultSweepIntervalMs;
    if (sweepIntervalMs > 0) {
      this.sweepTimer = setInterval(() => {
        this.sweepRetention().catch((error: unknown) =>
          this.emit("sweepFailed", { error: toHourglassError(error) }),
        );
      }, sweepIntervalMs);
      this.sweepTimer.unref();
    }
  }

  private async openStream(meta: StreamMeta, dir: string): Promise<StreamState> {
    const layout = meta.shards ?? initialLayout(meta.shardCount, meta.createdMs);
    // Folders of children that a crash cut off before stream.json named them: they never took a record.
    for (const name of await readdir(dir)) {
      const match = shardFolderPattern.exec(name);
      if (match && Number(match[1]) >= layout.length) {
        await rm(path.join(dir, name), { recursive: true, force: true });
        this.recovery.push({
          file: path.join(dir, name),
          truncatedBytes: 0,
          reason: "removed: the folder of a shard whose reshard did not take effect (never written)",
        });
      }
    }
    const shards: ShardLog[] = [];
    for (const shard of layout) shards.push(await this.openShardLog(dir, shard.index));
    return {
      meta,
      dir,
      shards,
      layout,
      deleted: false,
      router: new PartitionKeyRouter(openShards(layout)),
      updating: false,
    };
  }

  private openShardLog(dir: string, index: number): Promise<ShardLog> {
    const shardOptions = { segmentBytes: this.segmentBytes, sync: this.sync };
    return ShardLog.open(path.join(dir, formatShardId(index)), index, shardOptions, this.recovery);
  }

  // ---- streams ----

  async createStream(
    name: string,
    shardCount: number,
    opts: { retentionHours?: number } = {},
  ): Promise<StreamDescription> {
    validateStreamName(name);
    validateShardCount(shardCount);
    const retentionHours = validateRetentionHours(opts.retentionHours ?? defaultRetentionHours);
    return this.queue.run(async () => {
      this.assertOpen();
      if (this.streams.has(name)) {
        throw conflict(`stream ${name} already exists`, { awsCode: "ResourceInUseException" });
      }
      const meta: StreamMeta = {
        version: 1,
        name,
        shardCount,
        retentionHours,
        createdMs: Math.trunc(this.clock()),
      };
      // Built aside and renamed into place, so a crash leaves either no stream or a whole one.
      const scratch = path.join(this.streamsDir, `${scratchPrefix}creating-${name}`);
      const dir = path.join(this.streamsDir, name);
      await rm(scratch, { recursive: true, force: true });
      await mkdir(scratch);
      await writeStreamMeta(scratch, meta, this.sync);
      await rename(scratch, dir);
      if (this.sync) await fsyncDirectory(this.streamsDir);
      const stream = await this.openStream(meta, dir);
      this.streams.set(name, stream);
      return this.describe(stream);
    });
  }

  async listStreams(): Promise<string[]> {
    this.assertOpen();
    return [...this.streams.keys()].sort();
  }

  async describeStream(name: string): Promise<StreamDescription> {
    return this.describe(this.stream(name));
  }

  async deleteStream(name: string): Promise<void> {
    validateStreamName(name);
    await this.queue.run(async () => {
      const stream = this.stream(name);
      stream.deleted = true;
      this.streams.delete(name);
      for (const shard of stream.shards) await shard.close();
      const scratch = path.join(this.streamsDir, `${scratchPrefix}deleting-${name}-${Date.now()}`);
      await rename(stream.dir, scratch);
      if (this.sync) await fsyncDirectory(this.streamsDir);
      await rm(scratch, { recursive: true, force: true });
    });
  }

  async updateRetention(name: string, hours: number): Promise<void> {
    validateRetentionHours(hours);
    await this.queue.run(async () => {
      const stream = this.stream(name);
      const meta = { ...stream.meta, retentionHours: hours };
      await writeStreamMeta(stream.dir, meta, this.sync);
      stream.meta = meta;
    });
  }

  private describe(stream: StreamState): StreamDescription {
    return {
      StreamName: stream.meta.name,
      StreamARN: this.arnPrefix + stream.meta.name,
      StreamStatus: stream.updating ? "UPDATING" : "ACTIVE",
      StreamModeDetails: { StreamMode: "PROVISIONED" },
      RetentionPeriodHours: stream.meta.retentionHours,
      StreamCreationTimestamp: new Date(stream.meta.createdMs),
      Shards: this.selectShards(stream, undefined).map(shardDescription),
      HasMoreShards: false,
      EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
      EncryptionType: "NONE",
    };
  }

  private stream(name: string): StreamState {
    this.assertOpen();
    validateStreamName(name);
    const stream = this.streams.get(name);
    if (!stream) throw notFound(`stream ${name} not found`, { awsCode: "ResourceNotFoundException" });
    return stream;
  }

  // ---- resharding ----

  /**
   * Shards as ListShards selects them. A shard is alive at time T when it is open or was closed at
   * or after T (its records may still be there); the trim horizon is T = now - retention (not before
   * the stream's creation). FROM_* types give the shards alive then, AT_* only the oldest generation
   * of those (none of whose parents is alive then): where a consumer starts. Without a filter, every
   * shard alive at the trim horizon, as DescribeStream lists them.
   */
  private selectShards(stream: StreamState, filter: ShardFilter | undefined): ShardMeta[] {
    const trimHorizonMs = Math.max(this.clock() - stream.meta.retentionHours * hourMs, stream.meta.createdMs);
    const aliveAt = (ms: number) => (s: ShardMeta) => s.closedMs === undefined || s.closedMs >= ms;
    const oldestGeneration = (alive: ShardMeta[]) => {
      const set = new Set(alive.map((s) => s.index));
      return alive.filter(
        (s) =>
          !(s.parent !== undefined && set.has(s.parent)) &&
          !(s.adjacentParent !== undefined && set.has(s.adjacentParent)),
      );
    };
    const layout = stream.layout;
    switch (filter?.Type) {
      case undefined:
      case "FROM_TRIM_HORIZON":
        return layout.filter(aliveAt(trimHorizonMs));
      case "AT_TRIM_HORIZON":
        return oldestGeneration(layout.filter(aliveAt(trimHorizonMs)));
      case "AT_LATEST":
        return layout.filter(isOpen);
      case "FROM_TIMESTAMP":
      case "AT_TIMESTAMP": {
        const at = filter.Timestamp;
        if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
          throw validationError(`ShardFilter ${filter.Type} needs a valid Timestamp`, {
            awsCode: "InvalidArgumentException",
          });
        }
        const alive = layout.filter(aliveAt(Math.max(at.getTime(), trimHorizonMs)));
        return filter.Type === "FROM_TIMESTAMP" ? alive : oldestGeneration(alive);
      }
      case "AFTER_SHARD_ID": {
        if (filter.ShardId === undefined) {
          throw validationError("ShardFilter AFTER_SHARD_ID needs a ShardId", {
            awsCode: "InvalidArgumentException",
          });
        }
        const after = parseShardId(filter.ShardId);
        return layout.filter(aliveAt(trimHorizonMs)).filter((s) => s.index > after);
      }
      default:
        throw validationError(`unknown ShardFilter type ${JSON.stringify(filter?.Type)}`, {
          awsCode: "InvalidArgumentException",
        });
    }
  }

  async listShards(name: string, filter?: ShardFilter): Promise<ShardDescription[]> {
    return this.selectShards(this.stream(name), filter).map(shardDescription);
  }

  async splitShard(name: string, shardToSplit: string, newStartingHashKey: string): Promise<void> {
    await this.reshard(name, (layout, nowMs, lastOffsetOf) =>
      planSplit(layout, name, shardToSplit, newStartingHashKey, nowMs, lastOffsetOf),
    );
  }

  async mergeShards(name: string, shardToMerge: string, adjacentShardToMerge: string): Promise<void> {
    await this.reshard(name, (layout, nowMs, lastOffsetOf) =>
      planMerge(layout, name, shardToMerge, adjacentShardToMerge, nowMs, lastOffsetOf),
    );
  }

  async updateShardCount(name: string, targetShardCount: number): Promise<UpdateShardCountOutput> {
    if (typeof targetShardCount !== "number" || !Number.isInteger(targetShardCount) || targetShardCount < 1) {
      throw validationError(`TargetShardCount must be a whole number >= 1, got ${String(targetShardCount)}`, {
        awsCode: "InvalidArgumentException",
      });
    }
    let current = 0;
    await this.reshard(name, (layout, nowMs, lastOffsetOf, meta) => {
      current = openShards(layout).length;
      const limit = (message: string) =>
        validationError(
          `UpdateShardCount of stream ${name} from ${current} to ${targetShardCount}: ${message}`,
          {
            awsCode: "LimitExceededException",
          },
        );
      if (targetShardCount > current * 2)
        throw limit(`a stream can at most double its shard count at once (at most ${current * 2})`);
      if (targetShardCount * 2 < current) {
        throw limit(
          `a stream can at most halve its shard count at once (at least ${Math.ceil(current / 2)})`,
        );
      }
      if (targetShardCount > maxShardCount) throw limit(`at most ${maxShardCount} shards are allowed here`);
      const recent = (meta.scalings ?? []).filter((at) => at > nowMs - dayMs);
      if (recent.length >= maxScalingsPerDay) {
        throw limit(
          `the shard count may change ${maxScalingsPerDay} times a rolling 24 hours; the next is allowed after ${new Date(recent[0]! + dayMs).toISOString()}`,
        );
      }
      if (targetShardCount === current) return null;
      return {
        layout: planUniformScaling(layout, targetShardCount, nowMs, lastOffsetOf),
        scalings: [...recent, nowMs],
      };
    });
    const stream = this.stream(name);
    return {
      StreamName: name,
      StreamARN: this.arnPrefix + name,
      CurrentShardCount: current,
      TargetShardCount: openShards(stream.layout).length,
    };
  }

  /**
   * Applies a reshard. It runs on the write queue, so no batch is half written: the parents' last
   * offsets are final. The children's folders are made first (a crash then leaves folders that
   * stream.json does not name, removed on open), then stream.json is replaced atomically: that is
   * the switch, so a crash leaves the old layout or the new one. Only then do writes route to the
   * children and readers of the parents find their end.
   */
  private async reshard(
    name: string,
    plan: (
      layout: readonly ShardMeta[],
      nowMs: number,
      lastOffsetOf: (index: number) => number,
      meta: StreamMeta,
    ) => ShardMeta[] | { layout: ShardMeta[]; scalings: number[] } | null,
  ): Promise<void> {
    const stream = this.stream(name);
    if (stream.updating) {
      throw conflict(`stream ${name} is being resharded (StreamStatus UPDATING); wait until it is ACTIVE`, {
        awsCode: "ResourceInUseException",
      });
    }
    stream.updating = true;
    try {
      await this.queue.run(async () => {
        if (stream.deleted) {
          throw notFound(`stream ${name} was deleted`, { awsCode: "ResourceNotFoundException" });
        }
        const nowMs = Math.trunc(this.clock());
        const planned = plan(
          stream.layout,
          nowMs,
          (i) => stream.shards[i]!.position().nextOffset - 1,
          stream.meta,
        );
        if (planned === null) return;
        const layout = Array.isArray(planned) ? planned : planned.layout;
        const created: ShardLog[] = [];
        try {
          for (const shard of layout.slice(stream.layout.length)) {
            created.push(await this.openShardLog(stream.dir, shard.index));
          }
          if (this.sync) await fsyncDirectory(stream.dir);
          const open = openShards(layout);
          const meta: StreamMeta = {
            ...stream.meta,
            shardCount: open.length,
            shards: layout,
            ...(Array.isArray(planned) ? {} : { scalings: planned.scalings }),
          };
          await writeStreamMeta(stream.dir, meta, this.sync);
          const closed = layout.filter((s, i) => !isOpen(s) && isOpen(stream.layout[i] ?? s));
          stream.meta = meta;
          stream.layout = layout;
          stream.shards.push(...created);
          stream.router = new PartitionKeyRouter(open);
          for (const shard of closed) stream.shards[shard.index]?.releaseWaiters();
          this.emit("resharded", {
            streamName: name,
            closed: closed.map((s) => formatShardId(s.index)),
            created: created.map((s) => formatShardId(s.index)),
          });
        } catch (error) {
          if (stream.layout !== layout) for (const shard of created) await shard.close();
          throw error;
        }
      });
    } finally {
      stream.updating = false;
    }
  }

  private shard(stream: StreamState, shardId: string): ShardLog {
    const index = parseShardId(shardId);
    const shard = stream.shards[index];
    if (!shard) {
      throw notFound(`shard ${shardId} not found in stream ${stream.meta.name}`, {
        awsCode: "ResourceNotFoundException",
      });
    }
    return shard;
  }

  // ---- writes: group commit ----

  async putRecord(name: string, record: PutRecordInput): Promise<PutRecordOutput> {
    const stream = this.stream(name);
    const { router } = stream;
    const prepared = prepareRecords([record], router);
    const failure = prepared.failures.get(0);
    if (failure !== undefined) throw validationError(failure, { awsCode: "InvalidArgumentException" });
    const results: PutRecordsOutput["Records"] = [];
    await this.enqueue({ stream, records: [record], router, frames: prepared.shards, results });
    return results[0] as PutRecordOutput;
  }

  async putRecords(name: string, records: PutRecordInput[]): Promise<PutRecordsOutput> {
    const stream = this.stream(name);
    const list = validateRecordList(records);
    const { router } = stream;
    const { shards, failures, totalBytes } = prepareRecords(list, router);
    validateRequestBytes(totalBytes);
    const results: PutRecordsOutput["Records"] = new Array(list.length);
    for (const [slot, message] of failures) {
      results[slot] = { ErrorCode: "InvalidArgumentException", ErrorMessage: message };
    }
    if (shards.length > 0) await this.enqueue({ stream, records: list, router, frames: shards, results });
    return { FailedRecordCount: failures.size, Records: results };
  }

  /** Queues records for the next batch write; resolves once they are durable and readable. */
  private enqueue(put: Omit<PendingPut, "resolve" | "reject">): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ...put, resolve, reject });
      if (this.flushQueued) return;
      // Calls that arrive while a batch is being written and synced wait here together and share
      // the next write and fsync: the cost of a sync is paid once per batch, not once per call.
      this.flushQueued = true;
      void this.queue.run(async () => {
        this.flushQueued = false;
        const batch = this.pending;
        this.pending = [];
        await this.writeBatch(batch);
      });
    });
  }

  private async writeBatch(batch: PendingPut[]): Promise<void> {
    const groups = new Map<
      ShardLog,
      { stream: StreamState; buffers: Buffer[]; slots: [PendingPut, number[]][]; count: number }
    >();
    const live: PendingPut[] = [];
    for (const put of batch) {
      if (put.stream.deleted) {
        put.reject(
          notFound(`stream ${put.stream.meta.name} was deleted`, { awsCode: "ResourceNotFoundException" }),
        );
        continue;
      }
      live.push(put);
      if (put.router !== put.stream.router) {
        // A reshard came between the call and its write: the parents are closed, so route the
        // records again, to the children. What was refused before is refused again (routing does
        // not decide it).
        put.frames = prepareRecords(put.records, put.stream.router).shards;
        put.router = put.stream.router;
      }
      for (const frames of put.frames) {
        const shard = put.stream.shards[frames.shardIndex]!;
        let group = groups.get(shard);
        if (!group) {
          group = { stream: put.stream, buffers: [], slots: [], count: 0 };
          groups.set(shard, group);
        }
        group.buffers.push(frames.buffer);
        group.slots.push([put, frames.slots]);
        group.count += frames.slots.length;
      }
    }
    if (live.length === 0) return;
    const nowMs = this.clock();
    const shards = [...groups.keys()];
    const committed: StreamEventMap["records"][] = [];
    try {
      const appended = await Promise.allSettled(
        shards.map((shard) => shard.append(groups.get(shard)!.buffers, nowMs)),
      );
      throwFirstRejection(appended);
      throwFirstRejection(await Promise.allSettled(shards.map((shard) => shard.sync())));
      shards.forEach((shard, i) => {
        const firstOffset = (appended[i] as PromiseFulfilledResult<number>).value;
        const group = groups.get(shard)!;
        shard.commit();
        const shardId = formatShardId(shard.index);
        let offset = firstOffset;
        for (const [put, slots] of group.slots) {
          for (const slot of slots) {
            put.results[slot] = {
              ShardId: shardId,
              SequenceNumber: formatSequenceNumber(shard.index, offset++),
            };
          }
        }
        committed.push({
          streamName: group.stream.meta.name,
          shardId,
          firstSequenceNumber: formatSequenceNumber(shard.index, firstOffset),
          lastSequenceNumber: formatSequenceNumber(shard.index, firstOffset + group.count - 1),
          count: group.count,
          arrivalMs: shard.position().lastArrivalMs,
        });
      });
    } catch (error) {
      await Promise.allSettled(shards.map((shard) => shard.rollback()));
      const failure = new HourglassError(
        "Internal",
        `writing records failed: ${toHourglassError(error).message}`,
        {
          cause: error,
          retryable: true,
        },
      );
      for (const put of live) put.reject(failure);
      return;
    }
    for (const put of live) put.resolve();
    for (const event of committed) this.emit("records", event);
  }

  // ---- reads ----

  async getShardIterator(
    name: string,
    shardId: string,
    type: ShardIteratorType,
    opts: ShardIteratorOptions = {},
  ): Promise<string> {
    const stream = this.stream(name);
    const shard = this.shard(stream, shardId);
    const { firstOffset, nextOffset } = shard.position();
    let offset: number;
    switch (type) {
      case "TRIM_HORIZON":
        // Records past retention but not yet swept are skipped when read.
        offset = firstOffset;
        break;
      case "LATEST":
        offset = nextOffset;
        break;
      case "AT_SEQUENCE_NUMBER":
      case "AFTER_SEQUENCE_NUMBER": {
        const position = parseSequenceNumber(opts.StartingSequenceNumber);
        if (position.shardIndex !== shard.index || position.offset >= nextOffset) {
          throw validationError(
            `StartingSequenceNumber ${opts.StartingSequenceNumber} is not a sequence number of ${shardId} in stream ${name}`,
            { awsCode: "InvalidArgumentException" },
          );
        }
        offset = type === "AT_SEQUENCE_NUMBER" ? position.offset : position.offset + 1;
        break;
      }
      case "AT_TIMESTAMP": {
        const timestamp = opts.Timestamp;
        if (!(timestamp instanceof Date) || Number.isNaN(timestamp.getTime())) {
          throw validationError("AT_TIMESTAMP needs a valid Timestamp", {
            awsCode: "InvalidArgumentException",
          });
        }
        offset = await shard.offsetAtTime(timestamp.getTime());
        break;
      }
      default:
        throw validationError(`unknown shard iterator type ${JSON.stringify(type)}`, {
          awsCode: "InvalidArgumentException",
        });
    }
    return encodeShardIterator(
      { streamName: name, streamCreatedMs: stream.meta.createdMs, shardIndex: shard.index, offset },
      this.clock(),
    );
  }

  async getRecords(iterator: string, limit: number = maxGetRecordsLimit): Promise<GetRecordsOutput> {
    const { page, NextShardIterator, MillisBehindLatest, ChildShards } = await this.getRecordPage(
      iterator,
      limit,
    );
    const records: StreamRecord[] = new Array(page.count);
    for (let i = 0; i < page.count; i++) records[i] = page.record(i);
    return {
      Records: records,
      NextShardIterator,
      MillisBehindLatest,
      ...(ChildShards === undefined ? {} : { ChildShards }),
    };
  }

  async getRecordPage(iterator: string, limit: number = maxGetRecordsLimit): Promise<RecordPageOutput> {
    this.assertOpen();
    validateGetRecordsLimit(limit);
    const nowMs = this.clock();
    const position = decodeShardIterator(iterator, nowMs);
    const stream = this.streams.get(position.streamName);
    const shard = stream?.shards[position.shardIndex];
    if (!stream || !shard || stream.meta.createdMs !== position.streamCreatedMs) {
      throw notFound(`the stream of this shard iterator (${position.streamName}) no longer exists`, {
        awsCode: "ResourceNotFoundException",
      });
    }
    const cutoffMs = nowMs - stream.meta.retentionHours * hourMs;
    const { page, nextOffset } = await shard.readPage(position.offset, limit, maxGetRecordsBytes, cutoffMs);
    const tip = shard.position();
    const millisBehindLatest =
      page.count > 0 && nextOffset < tip.nextOffset ? tip.lastArrivalMs - page.arrivalMs(page.count - 1) : 0;
    const endingOffset = stream.layout[position.shardIndex]?.endingOffset;
    if (endingOffset !== undefined && nextOffset > endingOffset) {
      // A closed shard read to its end: no next iterator, and the children to go on with.
      return {
        page,
        NextShardIterator: null,
        ChildShards: childrenOf(stream.layout, position.shardIndex),
        MillisBehindLatest: 0,
      };
    }
    return {
      page,
      NextShardIterator: encodeShardIterator({ ...position, offset: nextOffset }, nowMs),
      MillisBehindLatest: Math.max(0, millisBehindLatest),
    };
  }

  async waitForRecords(
    name: string,
    shardId: string,
    afterSequenceNumber: string | null,
    timeoutMs: number,
  ): Promise<boolean> {
    const shard = this.shard(this.stream(name), shardId);
    if (typeof timeoutMs !== "number" || !(timeoutMs >= 0)) {
      throw validationError(`timeoutMs must be a number >= 0, got ${String(timeoutMs)}`);
    }
    let afterOffset = -1;
    if (afterSequenceNumber !== null) {
      const position = parseSequenceNumber(afterSequenceNumber);
      if (position.shardIndex !== shard.index) {
        throw validationError(`sequence number ${afterSequenceNumber} does not belong to ${shardId}`);
      }
      afterOffset = position.offset;
    }
    const endingOffset = this.stream(name).layout[shard.index]?.endingOffset;
    // A closed shard gets nothing more: a reader waiting at its end reads again and finds the end.
    if (endingOffset !== undefined && afterOffset >= endingOffset) return true;
    return shard.waitForRecords(afterOffset, timeoutMs);
  }

  async getShardStats(name: string): Promise<ShardStats[]> {
    const stream = this.stream(name);
    const cutoffMs = this.clock() - stream.meta.retentionHours * hourMs;
    const stats: ShardStats[] = [];
    for (const shard of stream.shards) {
      const { nextOffset, lastArrivalMs } = shard.position();
      const firstRetained = await shard.offsetAtTime(cutoffMs);
      const hasRecords = firstRetained < nextOffset;
      stats.push({
        ShardId: formatShardId(shard.index),
        FirstSequenceNumber: hasRecords ? formatSequenceNumber(shard.index, firstRetained) : null,
        LastSequenceNumber: nextOffset > 0 ? formatSequenceNumber(shard.index, nextOffset - 1) : null,
        RecordCount: nextOffset - firstRetained,
        LastArrivalTimestamp: nextOffset > 0 ? new Date(lastArrivalMs) : null,
        ...(isOpen(stream.layout[shard.index]!) ? {} : { Closed: true as const }),
      });
    }
    return stats;
  }

  // ---- retention ----

  async sweepRetention(): Promise<number> {
    return this.queue.run(async () => {
      this.assertOpen();
      const nowMs = this.clock();
      let total = 0;
      for (const stream of this.streams.values()) {
        const cutoffMs = nowMs - stream.meta.retentionHours * hourMs;
        for (const shard of stream.shards) {
          const segmentsDeleted = await shard.dropExpired(cutoffMs);
          if (segmentsDeleted === 0) continue;
          total += segmentsDeleted;
          this.emit("trimmed", {
            streamName: stream.meta.name,
            shardId: formatShardId(shard.index),
            segmentsDeleted,
          });
        }
      }
      return total;
    });
  }

  // ---- events and lifecycle ----

  on<E extends keyof StreamEventMap>(event: E, listener: (payload: StreamEventMap[E]) => void): () => void {
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }

  /** A listener that throws must not break the write or sweep that emitted: it becomes a warning. */
  private emit<E extends keyof StreamEventMap>(event: E, payload: StreamEventMap[E]): void {
    try {
      this.events.emit(event, payload);
    } catch (error) {
      process.emitWarning(`a stream "${event}" listener threw: ${String(error)}`);
    }
  }

  private assertOpen(): void {
    if (this.closing) throw conflict("the stream service is closed");
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.sweepTimer);
      // Queued after every batch already waiting, so acknowledged-or-failed is decided for all.
      await this.queue.run(async () => {
        for (const stream of this.streams.values()) for (const shard of stream.shards) await shard.close();
        this.streams.clear();
      });
      await this.releaseLock();
    })();
    return this.closing;
  }
}

/** A shard as DescribeStream and ListShards give it. */
function shardDescription(shard: ShardMeta): ShardDescription {
  const ending = shard.endingOffset;
  return {
    ShardId: formatShardId(shard.index),
    ...lineageOf(shard),
    HashKeyRange: { StartingHashKey: shard.startingHashKey, EndingHashKey: shard.endingHashKey },
    SequenceNumberRange: {
      StartingSequenceNumber: formatSequenceNumber(shard.index, 0),
      // A closed shard's last record (its first number when it had none: nothing is after it).
      ...(ending === undefined
        ? {}
        : { EndingSequenceNumber: formatSequenceNumber(shard.index, Math.max(ending, 0)) }),
    },
  };
}

function throwFirstRejection(results: PromiseSettledResult<unknown>[]): void {
  for (const result of results) if (result.status === "rejected") throw result.reason;
}

function validateOptions(options: StreamServiceOptions): void {
  if (typeof options.dir !== "string" || options.dir === "") {
    throw validationError("the stream service needs a state folder (dir)");
  }
  if (options.syncPolicy !== undefined && options.syncPolicy !== "fsync" && options.syncPolicy !== "none") {
    throw validationError(`syncPolicy must be "fsync" or "none", got ${JSON.stringify(options.syncPolicy)}`);
  }
  const { segmentBytes, sweepIntervalMs } = options;
  if (segmentBytes !== undefined && !(Number.isInteger(segmentBytes) && segmentBytes > 0)) {
    throw validationError(`segmentBytes must be a positive integer, got ${String(segmentBytes)}`);
  }
  if (sweepIntervalMs !== undefined && !(Number.isFinite(sweepIntervalMs) && sweepIntervalMs >= 0)) {
    throw validationError(`sweepIntervalMs must be a number >= 0, got ${String(sweepIntervalMs)}`);
  }
}

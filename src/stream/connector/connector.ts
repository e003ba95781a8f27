/**
 * The connector: reads every shard of a stream and writes the records to one store table.
 *
 * One reader per shard appends to the filling batch; a batch is sealed when it holds `batchSize`
 * records, or taken when its first record has waited `maxDelayMs`. One writer takes batches in
 * order: it writes the batch (retrying transient failures with backoff), puts the records that
 * could not be mapped or that the store refused on the dead-letter stream, and only then saves each
 * shard's last sequence number in the batch as the checkpoint. Batches are written one at a time
 * and in order, so a checkpoint never passes a record that is not in the store: after a crash the
 * connector resumes after the checkpoint and writes some records again, which the store takes as
 * no-ops (the same record again), so the table ends up holding every record once.
 *
 * Readers stop reading while a sealed batch waits (back-pressure: at most about three batches in
 * memory), and wait on the stream service's shard events when they reach the tip (no polling).
 *
 * Resharding: a shard split or merged is read to its end, then GetRecords names its children. A
 * child is read only once every parent has been read to its end (both, after a merge), so a
 * partition key's records enter the batches, and the store, in the order they were put. Closed
 * shards keep their checkpoint (their last record) and count as finished.
 */
import { conflict, HourglassError, toHourglassError } from "../../errors.js";
import type { WriteResult } from "../../store/index.js";
import type { RecordPage } from "../record-page.js";
import { backoffDelayMs } from "./backoff.js";
import { Batch, type BatchEntry } from "./batch.js";
import { type Checkpoint, readCheckpoint, writeCheckpoint } from "./checkpoint.js";
import { type DeadLetter, DeadLetterWriter, letterOf } from "./dead-letter.js";
import { MovingRate } from "./moving-rate.js";
import { type ResolvedOptions, resolveOptions } from "./options.js";
import { RecordMapper } from "./record-mapper.js";
import { GaveUp, type RetryContext, retryTransient } from "./retry-loop.js";
import { ShardCursor } from "./shard-cursor.js";
import { TypedEvents } from "./typed-events.js";
import type {
  ConnectorCounts,
  ConnectorEventMap,
  ConnectorOptions,
  ConnectorState,
  ConnectorStatus,
  ConnectorStore,
  ConnectorStreams,
} from "./types.js";
import { Latch, WakeSignal } from "./wake-signal.js";

/** GetRecords' own maximum. */
const readLimitRecords = 10_000;
/**
 * Multi-measure records per store write. The store checks a write's records synchronously (about
 * 10 µs a multi-measure record, against 1 µs a columnar row): a batch of 50,000 in one call would
 * hold the event loop, and with it the readers, for half a second. Each chunk is its own
 * transaction; the checkpoint still comes after the last, and a crash between them only means the
 * batch is written again, which the store takes as no-ops.
 */
const multiRecordsPerWrite = 10_000;
/** A reader at the tip reads again at least this often, even without a wake-up (a safety net). */
const tipWaitMs = 1_000;
/** Connectors running in this process, by checkpoint file: two would overwrite each other's. */
const running = new Set<string>();

export class StreamConnector {
  private readonly events = new TypedEvents<ConnectorEventMap>();
  private readonly counts: ConnectorCounts;
  private readonly rate = new MovingRate();
  private readonly deadLetters: DeadLetterWriter;
  private readonly flushSignal = new WakeSignal();
  private readonly roomSignal = new WakeSignal();
  private readonly stopLatch = new Latch();
  private readersFinished = false;
  private filling = new Batch();
  private readonly ready: Batch[] = [];
  private readonly mapper: RecordMapper;
  private state: ConnectorState = "running";
  private stopRequested = false;
  private lastError: ConnectorStatus["lastError"] = null;
  private lastBatchAt: string | null = null;
  private readonly startedAt: string;
  private unsubscribe: () => void = () => {};
  private fatal: HourglassError | undefined;
  /** A first run saves its start positions at once (a `latest` start skipped records for good). */
  private readonly firstRun: boolean;
  /** Resolves with the final status once stopped; rejects with the error when the connector failed. */
  readonly done: Promise<ConnectorStatus>;
  /** Per shard id: resolves once the shard was read to its end (closed shards only). */
  private readonly ends = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  /** Readers running, including those of children found while running. */
  private readonly readers = new Set<Promise<void>>();
  /** Children being opened (a merge's child is named by both parents). */
  private readonly opening = new Set<string>();
  /** Resolves when a stop is asked (or the connector failed). */
  private readonly stopped: Promise<void>;
  private resolveStopped!: () => void;

  private constructor(
    private readonly options: ResolvedOptions,
    private readonly streams: ConnectorStreams,
    private readonly store: ConnectorStore,
    private readonly shards: ShardCursor[],
    private readonly streamCreatedMs: number,
    previous: Checkpoint | null,
    private readonly runningKey: string,
    /** Shard id → its parents' ids, for the shards the stream lists. */
    private readonly parents: Map<string, string[]>,
  ) {
    this.firstRun = previous === null;
    this.stopped = new Promise((resolve) => {
      this.resolveStopped = resolve;
    });
    this.mapper = new RecordMapper(options.mapping);
    this.retryContext.initialDelayMs = options.retryInitialDelayMs;
    this.retryContext.maxDelayMs = options.retryMaxDelayMs;
    this.counts = previous
      ? { ...previous.counts }
      : { read: 0, written: 0, rejected: 0, parseFailed: 0, deadLettered: 0, batches: 0, retries: 0 };
    this.startedAt = new Date(options.clock()).toISOString();
    this.deadLetters = new DeadLetterWriter(
      streams,
      options.deadLetterStream,
      { connector: options.name, stream: options.stream },
      options.clock,
    );
    this.done = this.run();
    // `done` may be awaited late (or only through stop()): never an unhandled rejection.
    this.done.catch(() => undefined);
  }

  /** Checks the stream, the table and the checkpoint, positions every shard, and starts reading. */
  static async start(options: ConnectorOptions): Promise<StreamConnector> {
    const resolved = resolveOptions(options);
    const runningKey = `${resolved.stateDir}\u0000${resolved.name}`;
    if (running.has(runningKey)) {
      throw conflict(`a connector named ${resolved.name} already runs in this process`);
    }
    running.add(runningKey);
    try {
      const { streams, store } = options;
      const description = await streams.describeStream(resolved.stream);
      await store.describeTable(resolved.database, resolved.table);
      const streamCreatedMs = new Date(description.StreamCreationTimestamp).getTime();
      let previous = await readCheckpoint(resolved.stateDir, resolved.name);
      let note: string | undefined;
      if (
        previous &&
        (previous.stream !== resolved.stream ||
          previous.database !== resolved.database ||
          previous.table !== resolved.table)
      ) {
        throw conflict(
          `the checkpoint of connector ${resolved.name} belongs to ${previous.stream} → ${previous.database}.${previous.table}; give this connector another name`,
        );
      }
      if (previous && previous.streamCreatedMs !== streamCreatedMs) {
        note = `stream ${resolved.stream} was created again since checkpoint ${resolved.name} was saved: starting over from ${resolved.from}`;
        previous = null;
      }
      // Every shard the stream still lists (closed ones too: a parent is read before its children);
      // a parent it no longer lists expired, and counts as read.
      const listed = new Set(description.Shards.map((s) => s.ShardId));
      const parents = new Map(
        description.Shards.map((s) => [
          s.ShardId,
          [s.ParentShardId, s.AdjacentParentShardId].filter(
            (p): p is string => p !== undefined && listed.has(p),
          ),
        ]),
      );
      const stats = (await streams.getShardStats(resolved.stream)).filter((s) => listed.has(s.ShardId));
      const shards = await Promise.all(
        stats.map((s) =>
          // With a checkpoint, a shard it does not name had no record when the connector first
          // started: everything in it came later, so it is read from the trim horizon whatever `from` says.
          ShardCursor.open(
            streams,
            resolved.stream,
            s,
            previous?.shards[s.ShardId] ?? null,
            previous ? "trim-horizon" : resolved.from,
          ),
        ),
      );
      const connector = new StreamConnector(
        resolved,
        streams,
        store,
        shards,
        streamCreatedMs,
        previous,
        runningKey,
        parents,
      );
      if (note)
        connector.lastError = {
          message: note,
          code: "Conflict",
          at: new Date(resolved.clock()).toISOString(),
        };
      return connector;
    } catch (error) {
      running.delete(runningKey);
      throw error;
    }
  }

  on<E extends keyof ConnectorEventMap>(
    event: E,
    listener: (payload: ConnectorEventMap[E]) => void,
  ): () => void {
    return this.events.on(event, listener);
  }

  /** Stops reading, writes and checkpoints what was read, and resolves with the final status. */
  stop(): Promise<ConnectorStatus> {
    if (this.state === "running") this.state = "stopping";
    this.requestStop();
    return this.done;
  }

  status(): ConnectorStatus {
    const shards = this.shards.map((s) => s.status());
    return {
      name: this.options.name,
      stream: this.options.stream,
      database: this.options.database,
      table: this.options.table,
      mapping: this.options.mapping,
      deadLetterStream: this.options.deadLetterStream,
      state: this.state,
      startedAt: this.startedAt,
      shards,
      lag: {
        records: shards.reduce((sum, s) => sum + s.behindRecords, 0),
        millisBehindLatest: shards.reduce((max, s) => Math.max(max, s.millisBehindLatest), 0),
      },
      recordsPerSecond: this.rate.perSecond(),
      counts: { ...this.counts },
      lastBatchAt: this.lastBatchAt,
      lastError: this.lastError,
    };
  }

  // ---- lifecycle ----

  private async run(): Promise<ConnectorStatus> {
    this.unsubscribe = this.streams.on("records", (event) => {
      if (event.streamName !== this.options.stream) return;
      this.shards
        .find((s) => s.shardId === event.shardId)
        ?.noteCommitted(event.firstSequenceNumber, event.lastSequenceNumber, event.arrivalMs);
    });
    const unsubscribeReshards = this.streams.on("resharded", (event) => {
      if (event.streamName !== this.options.stream) return;
      // In creation order: a short-lived child of this reshard is a parent of a later one.
      void (async () => {
        for (const shardId of event.created) await this.addShard(shardId);
      })().catch((error: unknown) => this.noteError(toHourglassError(error), true));
    });
    const unsubscribeRecords = this.unsubscribe;
    this.unsubscribe = () => {
      unsubscribeRecords();
      unsubscribeReshards();
    };
    try {
      for (const shard of this.shards) this.startReader(shard);
      const readersDone = this.allReaders().then(() => {
        this.readersFinished = true;
        this.flushSignal.notify();
      });
      await this.writeBatches();
      await readersDone;
    } finally {
      this.unsubscribe();
      running.delete(this.runningKey);
    }
    if (this.fatal) {
      this.state = "failed";
      throw this.fatal;
    }
    this.state = "stopped";
    return this.status();
  }

  private fail(error: HourglassError): void {
    if (this.fatal) return;
    this.fatal = error;
    this.state = "failed";
    this.noteError(error, false);
    this.requestStop();
  }

  private requestStop(): void {
    this.stopRequested = true;
    this.resolveStopped();
    this.stopLatch.open();
    this.flushSignal.notify();
    this.roomSignal.notify();
  }

  private noteError(error: HourglassError, retrying: boolean, delayMs?: number): void {
    this.lastError = {
      message: error.message,
      code: error.code,
      at: new Date(this.options.clock()).toISOString(),
    };
    this.events.emit("error", { error, retrying, ...(delayMs === undefined ? {} : { delayMs }) });
  }

  // ---- reading ----

  private startReader(shard: ShardCursor): void {
    const reader = this.readShard(shard).finally(() => this.readers.delete(reader));
    this.readers.add(reader);
  }

  /** Resolves once no reader runs (a reader that ends starts its children's first). */
  private async allReaders(): Promise<void> {
    while (this.readers.size > 0) await Promise.all([...this.readers]);
  }

  private endOf(shardId: string): { promise: Promise<void>; resolve: () => void } {
    let end = this.ends.get(shardId);
    if (!end) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      end = { promise, resolve };
      this.ends.set(shardId, end);
    }
    return end;
  }

  /** Waits until every parent of the shard was read to its end; false when stopped first. */
  private async parentsRead(shard: ShardCursor): Promise<boolean> {
    const parents = this.parents.get(shard.shardId) ?? [];
    if (parents.length > 0) {
      await Promise.race([Promise.all(parents.map((p) => this.endOf(p).promise)), this.stopped]);
    }
    return !this.stopRequested;
  }

  /**
   * The shard was read to its end: it is finished, and its children (GetRecords' ChildShards) get
   * readers, if the reshard event did not give them one already.
   */
  private async finishShard(
    shard: ShardCursor,
    children: readonly { ShardId: string; ParentShards: string[] }[],
  ): Promise<void> {
    shard.closed = true;
    shard.finished = true;
    this.endOf(shard.shardId).resolve();
    for (const child of children) await this.addShard(child.ShardId, child.ParentShards);
  }

  /**
   * A shard made by a reshard while the connector runs: a cursor at once (so the lag counts its
   * records), and a reader that starts once its parents were read to their end. Everything in it
   * came after the connector started, so it is read from its beginning.
   */
  private async addShard(shardId: string, parents?: readonly string[]): Promise<void> {
    if (this.shards.some((s) => s.shardId === shardId) || this.opening.has(shardId)) return;
    this.opening.add(shardId);
    try {
      const { stream } = this.options;
      if (parents === undefined) {
        const described = (await this.streams.describeStream(stream)).Shards.find(
          (s) => s.ShardId === shardId,
        );
        parents = [described?.ParentShardId, described?.AdjacentParentShardId].filter(
          (p): p is string => p !== undefined,
        );
      }
      if (!this.parents.has(shardId)) this.parents.set(shardId, [...parents]);
      const stats = (await this.streams.getShardStats(stream)).find((s) => s.ShardId === shardId);
      if (!stats || this.stopRequested) return;
      const cursor = await ShardCursor.open(this.streams, stream, stats, null, "trim-horizon");
      this.shards.push(cursor);
      this.startReader(cursor);
    } finally {
      this.opening.delete(shardId);
    }
  }

  private async readShard(shard: ShardCursor): Promise<void> {
    const { stream } = this.options;
    const limit = Math.min(readLimitRecords, this.options.batchSize);
    if (!(await this.parentsRead(shard))) return;
    while (!this.stopRequested) {
      if (this.ready.length > 0) {
        await this.roomSignal.wait();
        continue;
      }
      try {
        const { page, NextShardIterator, MillisBehindLatest, ChildShards } = await this.streams.getRecordPage(
          shard.iterator,
          limit,
        );
        shard.failures = 0;
        if (NextShardIterator === null) {
          if (page.count > 0) this.accept(shard, page, MillisBehindLatest);
          shard.noteCaughtUp();
          await this.finishShard(shard, ChildShards ?? []);
          return;
        }
        shard.iterator = NextShardIterator;
        if (page.count > 0) {
          this.accept(shard, page, MillisBehindLatest);
          continue;
        }
        shard.noteCaughtUp();
        shard.waitAfterLatest();
        await Promise.race([
          this.streams.waitForRecords(stream, shard.shardId, shard.waitAfterSequence, tipWaitMs),
          this.stopLatch.wait(tipWaitMs),
        ]);
      } catch (error) {
        if (this.stopRequested || !(await this.recoverRead(shard, error))) break;
      }
    }
  }

  /** After a failed read: true to read on (iterator renewed, or waited after a transient failure). */
  private async recoverRead(shard: ShardCursor, error: unknown): Promise<boolean> {
    const { stream } = this.options;
    let failure = toHourglassError(error);
    if (failure.context["awsCode"] === "ExpiredIteratorException") {
      try {
        await shard.renewIterator(this.streams, stream);
        return true;
      } catch (renewError) {
        failure = toHourglassError(renewError);
      }
    }
    if (failure.retryable) {
      const delayMs = backoffDelayMs(
        shard.failures++,
        this.options.retryInitialDelayMs,
        this.options.retryMaxDelayMs,
      );
      this.counts.retries++;
      this.noteError(failure, true, delayMs);
      await this.stopLatch.wait(delayMs);
      return true;
    }
    this.fail(
      new HourglassError(failure.code, `reading ${shard.shardId} of ${stream} failed: ${failure.message}`, {
        cause: error,
        context: failure.context,
      }),
    );
    return false;
  }

  private accept(shard: ShardCursor, page: RecordPage, millisBehindLatest: number): void {
    const last = page.count - 1;
    const expired = shard.noteRead(
      page.offset(0),
      page.offset(last),
      page.arrivalMs(last),
      millisBehindLatest,
    );
    if (expired > 0) {
      this.noteError(
        new HourglassError(
          "Internal",
          `${expired} record(s) of ${shard.shardId} expired (stream retention) before the connector read them`,
        ),
        true,
      );
    }
    const receivedMs = performance.now();
    const { batchSize } = this.options;
    let batch = this.filling;
    let pageNumber = batch.usePage(page);
    let first = 0;
    for (let i = 0; i < page.count; i++) {
      this.mapper.map(page.buffer(i), page.dataStart(i), page.dataEnd(i), batch, pageNumber, i);
      if (batch.size >= batchSize) {
        batch.noteSlice(page, first, i, receivedMs);
        this.ready.push(batch);
        batch = this.filling = new Batch();
        pageNumber = batch.usePage(page);
        first = i + 1;
      }
    }
    if (first <= last) batch.noteSlice(page, first, last, receivedMs);
    this.counts.read += page.count;
    this.flushSignal.notify();
  }

  // ---- writing ----

  /** The next batch to write, in order; null once stopped and everything read was handed out. */
  private async nextBatch(): Promise<Batch | null> {
    for (;;) {
      if (this.fatal) return null;
      const sealed = this.ready.shift();
      if (sealed) {
        this.roomSignal.notify();
        return sealed;
      }
      const waitedMs = performance.now() - this.filling.firstReceivedMs;
      if (this.filling.size > 0 && (this.stopRequested || waitedMs >= this.options.maxDelayMs)) {
        const batch = this.filling;
        this.filling = new Batch();
        return batch;
      }
      if (this.stopRequested && this.readersFinished) return null;
      await this.flushSignal.wait(this.filling.size > 0 ? this.options.maxDelayMs - waitedMs : undefined);
    }
  }

  private async writeBatches(): Promise<void> {
    if (this.firstRun) {
      try {
        await this.saveCheckpoint(this.checkpointAfter(null, 0, 0, 0));
      } catch (error) {
        if (!(error instanceof GaveUp)) this.fail(toHourglassError(error));
        return;
      }
    }
    for (;;) {
      const batch = await this.nextBatch();
      if (batch === null) return;
      try {
        await this.writeBatch(batch);
      } catch (error) {
        if (error instanceof GaveUp) {
          // Stopping while the store fails: the batch is not checkpointed and is read again next run.
          this.ready.length = 0;
          this.filling = new Batch();
          return;
        }
        this.fail(toHourglassError(error));
        return;
      }
    }
  }

  private async writeBatch(batch: Batch): Promise<void> {
    const startedMs = performance.now();
    const { database, table } = this.options;
    const letters: DeadLetter[] = batch.failures.map(({ reason }, i) =>
      letterOf(batch.failureSource(i), "parse", reason),
    );
    let written = 0;
    let rejected = 0;
    const reject = (result: WriteResult, source: (index: number) => BatchEntry): void => {
      written += result.RecordsIngested.Total;
      rejected += result.rejected.length;
      for (const r of result.rejected) {
        const letter = letterOf(source(r.RecordIndex), "rejected", r.Reason);
        letter.recordIndex = r.RecordIndex;
        if (r.ExistingVersion !== undefined) letter.existingVersion = r.ExistingVersion;
        letters.push(letter);
      }
    };
    if (batch.rows > 0) {
      // Single-measure records: the store's columnar write (one transaction).
      const result = await this.retrying(`writing to ${database}.${table}`, () =>
        this.store.writeColumns(batch.columns(database, table)),
      );
      reject(result, (row) => batch.rowSource(row));
    }
    // Multi-measure records: WriteRecords on the native batch path, a chunk a call (see above).
    for (let first = 0; first < batch.records.length; first += multiRecordsPerWrite) {
      const records = batch.records.slice(first, first + multiRecordsPerWrite);
      const result = await this.retrying(`writing to ${database}.${table}`, () =>
        this.store.writeRecords(
          { DatabaseName: database, TableName: table, Records: records },
          { maxRecords: records.length },
        ),
      );
      reject(result, (index) => batch.recordSource(first + index));
    }
    if (letters.length > 0) {
      await this.retrying(`writing to dead-letter stream ${this.options.deadLetterStream}`, () =>
        this.deadLetters.put(letters),
      );
    }
    const checkpoint = this.checkpointAfter(batch, written, rejected, letters.length);
    await this.saveCheckpoint(checkpoint);
    for (const { shardId, sequenceNumber } of batch.lastSequenceNumbers()) {
      const shard = this.shards.find((s) => s.shardId === shardId);
      if (shard) shard.checkpoint = sequenceNumber;
    }
    // Field by field: readers count `read` and `retries` meanwhile.
    this.counts.written += written;
    this.counts.rejected += rejected;
    this.counts.parseFailed += batch.failures.length;
    this.counts.deadLettered += letters.length;
    this.counts.batches++;
    this.rate.add(batch.size);
    const committedAtMs = this.options.clock();
    this.lastBatchAt = new Date(committedAtMs).toISOString();
    for (const letter of letters) {
      this.events.emit("record:deadlettered", {
        kind: letter.kind,
        reason: letter.reason,
        shardId: letter.shardId,
        sequenceNumber: letter.sequenceNumber,
        partitionKey: letter.partitionKey,
        ...(letter.recordIndex === undefined ? {} : { recordIndex: letter.recordIndex }),
      });
    }
    this.events.emit("batch:written", {
      records: batch.size,
      written,
      rejected,
      parseFailed: batch.failures.length,
      deadLettered: letters.length,
      durationMs: performance.now() - startedMs,
      oldestArrivalMs: batch.oldestArrivalMs,
      newestArrivalMs: batch.newestArrivalMs,
      committedAtMs,
      checkpoint: checkpoint.shards,
    });
  }

  private saveCheckpoint(checkpoint: Checkpoint): Promise<void> {
    return this.retrying("saving the checkpoint", async () => {
      try {
        await writeCheckpoint(this.options.stateDir, checkpoint);
      } catch (error) {
        // Disk full, a permission fixed by hand: the file can be written later.
        throw new HourglassError("Internal", `cannot save checkpoint: ${String(error)}`, {
          cause: error,
          retryable: true,
        });
      }
    });
  }

  /** The checkpoint that holds once `batch` is in the store (null: the start positions). */
  private checkpointAfter(
    batch: Batch | null,
    written: number,
    rejected: number,
    deadLettered: number,
  ): Checkpoint {
    const shards: Record<string, string> = {};
    for (const shard of this.shards) if (shard.checkpoint !== null) shards[shard.shardId] = shard.checkpoint;
    for (const { shardId, sequenceNumber } of batch?.lastSequenceNumbers() ?? [])
      shards[shardId] = sequenceNumber;
    const records = batch?.size ?? 0;
    const status = this.status();
    return {
      version: 1,
      name: this.options.name,
      stream: this.options.stream,
      streamCreatedMs: this.streamCreatedMs,
      database: this.options.database,
      table: this.options.table,
      mapping: this.options.mapping,
      shards,
      counts: {
        ...this.counts,
        written: this.counts.written + written,
        rejected: this.counts.rejected + rejected,
        parseFailed: this.counts.parseFailed + (batch?.failures.length ?? 0),
        deadLettered: this.counts.deadLettered + deadLettered,
        batches: this.counts.batches + (batch ? 1 : 0),
      },
      lag: {
        records: Math.max(0, status.lag.records - records),
        millisBehindLatest: status.lag.millisBehindLatest,
        recordsPerSecond: status.recordsPerSecond,
      },
      updatedAt: new Date(this.options.clock()).toISOString(),
    };
  }

  private retrying<T>(what: string, work: () => Promise<T>): Promise<T> {
    return retryTransient(what, work, this.retryContext);
  }

  private readonly retryContext: RetryContext = {
    initialDelayMs: 0,
    maxDelayMs: 0,
    stopRequested: () => this.stopRequested,
    wait: (ms) => this.stopLatch.wait(ms),
    onFailure: (error, delayMs) => {
      if (delayMs !== undefined) this.counts.retries++;
      this.noteError(error, delayMs !== undefined, delayMs);
    },
  };
}

/** Starts a connector (what `hourglass up` and `hourglass connector run` call). Stop it with `stop()`. */
export function startConnector(options: ConnectorOptions): Promise<StreamConnector> {
  return StreamConnector.start(options);
}

/**
 * The server's connectors: the definitions of `<stateDir>/connectors.json`, each run as a
 * StreamConnector while it is enabled. The runtime (`hourglass up`) opens the manager after the
 * store and the stream, and closes it before them.
 *
 * A connector that cannot start (its stream or table does not exist, its checkpoint belongs to
 * another stream) or that fails later is "failed" with the reason; nothing of it reaches the server
 * or the other connectors. `connector start` tries a failed one again, and so does the next server
 * start. Closing stops every connector after its batch in hand is written and checkpointed, and
 * leaves the definitions as they are, so the next start resumes each enabled connector after its
 * checkpoint (the connector's own exactly-once rule: the checkpoint follows the store's commit).
 */
import { conflict, toHourglassError } from "../../errors.js";
import { type Log, silentLog } from "../../log/index.js";
import type { StreamService } from "../types.js";
import {
  type ConnectorAdmin,
  type ConnectorDescription,
  checkpointOf,
  describeIdle,
  describeRunning,
  duplicateConnector,
  removeCheckpoint,
  unknownConnector,
} from "./admin.js";
import { validateConnectorName } from "./checkpoint.js";
import { StreamConnector } from "./connector.js";
import {
  type ConnectorDefinition,
  type ConnectorDefinitionInput,
  definitionFromInput,
  parseStartPosition,
  readDefinitions,
  writeDefinitions,
} from "./definitions.js";
import { TypedEvents } from "./typed-events.js";
import type { ConnectorEventMap, ConnectorStore, ConnectorStreams, RetryOptions } from "./types.js";

/** What the manager's connectors do, for logs and for tests to wait on (never sleep on). */
export interface ConnectorManagerEventMap {
  /** A connector wrote and checkpointed a batch. */
  "batch:written": ConnectorEventMap["batch:written"] & { connector: string };
  /** A connector could not start, or stopped on a failure: `reason` says why. */
  "connector:failed": { connector: string; reason: string };
}

export interface ConnectorManagerOptions {
  streams: ConnectorStreams & Pick<StreamService, "getShardStats">;
  store: ConnectorStore;
  stateDir: string;
  clock?: () => number;
  retry?: RetryOptions;
  /**
   * The process log: each connector's start, stop and failure, its retries and its dead letters
   * (default: nothing is logged; a failure's reason is in the connector's description).
   */
  log?: Log;
}

/** What the manager knows of one definition beyond the file. */
interface Slot {
  connector: StreamConnector | null;
  /** Why the last start or run failed; null when it did not. */
  failure: string | null;
}

export class ConnectorManager implements ConnectorAdmin {
  private readonly definitions = new Map<string, ConnectorDefinition>();
  private readonly slots = new Map<string, Slot>();
  /** Calls run one at a time: a delete never races the start of the same connector. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed: Promise<void> | null = null;
  private readonly clock: () => number;
  private readonly events = new TypedEvents<ConnectorManagerEventMap>();
  private readonly log: Log;

  private constructor(private readonly options: ConnectorManagerOptions) {
    this.clock = options.clock ?? Date.now;
    this.log = options.log ?? silentLog;
  }

  /** Reads the definitions and starts the enabled ones (a failure to start leaves that one failed). */
  static async open(options: ConnectorManagerOptions): Promise<ConnectorManager> {
    const manager = new ConnectorManager(options);
    for (const definition of await readDefinitions(options.stateDir)) {
      manager.definitions.set(definition.name, definition);
      manager.slots.set(definition.name, { connector: null, failure: null });
    }
    await Promise.all(
      [...manager.definitions.values()].filter((d) => d.enabled).map((d) => manager.launch(d)),
    );
    return manager;
  }

  create(input: ConnectorDefinitionInput): Promise<ConnectorDescription> {
    return this.serial(async () => {
      const definition = definitionFromInput(input, this.clock());
      if (this.definitions.has(definition.name)) throw duplicateConnector(definition.name);
      this.definitions.set(definition.name, definition);
      this.slots.set(definition.name, { connector: null, failure: null });
      try {
        await this.save();
      } catch (error) {
        this.definitions.delete(definition.name);
        this.slots.delete(definition.name);
        throw error;
      }
      if (definition.enabled) await this.launch(definition);
      return this.describeNow(definition.name);
    });
  }

  async list(): Promise<ConnectorDescription[]> {
    const names = [...this.definitions.keys()].sort();
    return Promise.all(names.map((name) => this.describeNow(name)));
  }

  async describe(name: string): Promise<ConnectorDescription> {
    this.find(name);
    return this.describeNow(name);
  }

  start(name: string): Promise<ConnectorDescription> {
    return this.serial(async () => {
      const definition = this.find(name);
      if (!definition.enabled) {
        definition.enabled = true;
        await this.save();
      }
      const running = this.slots.get(name)?.connector?.status().state;
      if (running !== "running" && running !== "stopping") await this.launch(definition);
      return this.describeNow(name);
    });
  }

  stop(name: string): Promise<ConnectorDescription> {
    return this.serial(async () => {
      const definition = this.find(name);
      if (definition.enabled) {
        definition.enabled = false;
        await this.save();
      }
      await this.halt(name);
      return this.describeNow(name);
    });
  }

  delete(name: string): Promise<void> {
    return this.serial(async () => {
      this.find(name);
      await this.halt(name);
      const removed = this.definitions.get(name)!;
      this.definitions.delete(name);
      try {
        await this.save();
      } catch (error) {
        this.definitions.set(name, removed);
        throw error;
      }
      this.slots.delete(name);
      await removeCheckpoint(this.options.stateDir, name);
    });
  }

  /** Stops every connector (each writes and checkpoints its batch in hand). Idempotent. */
  close(): Promise<void> {
    this.closed ??= this.queue
      .catch(() => undefined)
      .then(async () => {
        await Promise.all([...this.slots.keys()].map((name) => this.halt(name)));
      });
    return this.closed;
  }

  on<E extends keyof ConnectorManagerEventMap>(
    event: E,
    listener: (payload: ConnectorManagerEventMap[E]) => void,
  ): () => void {
    return this.events.on(event, listener);
  }

  // ---- internals ----

  private serial<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) {
      return Promise.reject(conflict("the server is stopping: its connectors can no longer be changed"));
    }
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private find(name: string): ConnectorDefinition {
    validateConnectorName(name);
    const definition = this.definitions.get(name);
    if (!definition) throw unknownConnector(name, "this server");
    return definition;
  }

  private save(): Promise<void> {
    return writeDefinitions(this.options.stateDir, [...this.definitions.values()]);
  }

  /** Starts the connector of a definition; a failure is kept as its reason, never thrown. */
  private async launch(definition: ConnectorDefinition): Promise<void> {
    const slot = this.slots.get(definition.name);
    if (!slot) return;
    try {
      const connector = await StreamConnector.start({
        streams: this.options.streams,
        store: this.options.store,
        stateDir: this.options.stateDir,
        name: definition.name,
        stream: definition.stream,
        database: definition.database,
        table: definition.table,
        mapping: definition.mapping,
        batchSize: definition.batchSize,
        maxDelayMs: definition.maxDelayMs,
        from: parseStartPosition(definition.from),
        deadLetterStream: definition.deadLetterStream,
        ...(this.options.clock ? { clock: this.options.clock } : {}),
        ...(this.options.retry ? { retry: this.options.retry } : {}),
      });
      slot.connector = connector;
      slot.failure = null;
      const name = definition.name;
      const log = this.log.child({ connector: name });
      log.info(
        { stream: definition.stream, table: `${definition.database}.${definition.table}` },
        "connector started",
      );
      connector.on("batch:written", (batch) => {
        log.debug(
          { records: batch.records, written: batch.written, rejected: batch.rejected },
          "batch written",
        );
        this.events.emit("batch:written", { ...batch, connector: name });
      });
      connector.on("error", ({ error, retrying, delayMs }) => {
        if (retrying) log.warn({ err: error, delayMs }, "connector retrying after a failure");
      });
      connector.on("record:deadlettered", (record) => log.info({ ...record }, "record dead-lettered"));
      connector.done.then(
        () => log.info({}, "connector stopped"),
        (error: unknown) => {
          const failure = toHourglassError(error);
          const reason = `failed while running: ${failure.message}`;
          // Still this slot's connector: a later start replaced neither.
          if (slot.connector === connector) slot.failure = reason;
          log.error({ err: failure }, `connector ${reason}`);
          this.events.emit("connector:failed", { connector: name, reason });
        },
      );
    } catch (error) {
      const failure = toHourglassError(error);
      const what = `${definition.stream} → ${definition.database}.${definition.table}`;
      slot.failure =
        failure.code === "NotFound"
          ? `cannot start (${what}): ${failure.message}; create it, then \`hourglass connector start ${definition.name}\``
          : `cannot start (${what}): ${failure.message}`;
      this.log.error({ connector: definition.name, err: failure }, `connector ${slot.failure}`);
      this.events.emit("connector:failed", { connector: definition.name, reason: slot.failure });
    }
  }

  /** Stops a connector if it runs; its failure (if any) stays its reason. */
  private async halt(name: string): Promise<void> {
    const connector = this.slots.get(name)?.connector;
    if (!connector) return;
    await connector.stop().catch(() => undefined);
  }

  private async describeNow(name: string): Promise<ConnectorDescription> {
    const definition = this.find(name);
    const slot = this.slots.get(name) ?? { connector: null, failure: null };
    const { stateDir } = this.options;
    const status = slot.connector?.status();
    if (status && (status.state === "running" || status.state === "stopping")) {
      const checkpoint = await checkpointOf(stateDir, definition);
      return describeRunning(definition, status, null, checkpoint?.updatedAt ?? null);
    }
    if (slot.failure !== null) {
      if (status) {
        const checkpoint = await checkpointOf(stateDir, definition);
        return {
          ...describeRunning(definition, status, slot.failure, checkpoint?.updatedAt ?? null),
          state: "failed",
        };
      }
      return describeIdle(stateDir, definition, "failed", slot.failure, this.options.streams);
    }
    const reason = definition.enabled
      ? "not started yet"
      : "stopped with `connector stop`: `hourglass connector start` starts it again after its checkpoint";
    return describeIdle(stateDir, definition, "stopped", reason, this.options.streams);
  }
}

/** Opens the manager of a state folder's connectors and starts the enabled ones. */
export function openConnectorManager(options: ConnectorManagerOptions): Promise<ConnectorManager> {
  return ConnectorManager.open(options);
}

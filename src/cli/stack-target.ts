/**
 * The services a stack is applied to, as the stack's small driver interfaces: the running server's
 * (REST) when there is one for the state folder, else the state folder's own store, streams,
 * connector definitions and lake folder, opened for the command and closed after it.
 */
import type { Command } from "commander";
import {
  HttpClient,
  type LakeClient,
  RemoteConnectors,
  RemoteLake,
  RemoteStore,
  RemoteStream,
} from "../api/remote.js";
import { queryLimitsOf } from "../config.js";
import { isHourglassError } from "../errors.js";
import { openLocalLake } from "../lake/index.js";
import type { ResourceDriver, StackTarget } from "../stack/index.js";
import { splitTableName } from "../stack/index.js";
import type { StoreService } from "../store/index.js";
import { TimestreamStore } from "../store/index.js";
import {
  type ConnectorAdmin,
  type ConnectorMapping,
  localStreamClient,
  OfflineConnectors,
  type StreamClient,
} from "../stream/connector/index.js";
import { openStreamService } from "../stream/index.js";
import { configFrom, serverUrl } from "./context.js";

/** null for a resource that does not exist; other errors pass through. */
async function orNull<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (error) {
    if (isHourglassError(error, "NotFound")) return null;
    throw error;
  }
}

/** The lake calls a stack makes (the server's lake client and the local lake both have them). */
type StackLake = Pick<
  LakeClient,
  "createBucket" | "listBuckets" | "deleteBucket" | "listObjects" | "deleteObject"
>;

const quoted = (name: string) => `"${name.replace(/"/g, '""')}"`;

export function driversOf(
  store: StoreService,
  streams: StreamClient,
  connectors: ConnectorAdmin,
  lake: StackLake,
): StackTarget {
  const database: ResourceDriver = {
    read: async (name) => ((await orNull(() => store.describeDatabase(name))) ? {} : null),
    create: async (name) => void (await store.createDatabase(name)),
    delete: (name) => store.deleteDatabase(name),
  };
  const table: ResourceDriver = {
    async read(name) {
      const [db, t] = splitTableName(name);
      const found = await orNull(() => store.describeTable(db, t));
      if (!found) return null;
      return {
        memoryHours: found.RetentionProperties.MemoryStoreRetentionPeriodInHours,
        magneticDays: found.RetentionProperties.MagneticStoreRetentionPeriodInDays,
        magneticWrites: found.MagneticStoreWriteProperties.EnableMagneticStoreWrites,
      };
    },
    async create(name, p) {
      const [db, t] = splitTableName(name);
      await store.createTable({ DatabaseName: db, TableName: t, ...tableSettings(p) });
    },
    async update(name, p) {
      const [db, t] = splitTableName(name);
      await store.updateTable({ DatabaseName: db, TableName: t, ...tableSettings(p) });
    },
    delete(name) {
      const [db, t] = splitTableName(name);
      return store.deleteTable(db, t);
    },
    async holdsData(name) {
      const [db, t] = splitTableName(name);
      const answer = await store.query({ QueryString: `SELECT count(*) FROM ${quoted(db)}.${quoted(t)}` });
      return Number(answer.Rows[0]?.Data[0]?.ScalarValue ?? 0) > 0;
    },
  };
  const bucket: ResourceDriver = {
    read: async (name) => ((await lake.listBuckets()).includes(name) ? {} : null),
    create: (name) => lake.createBucket(name),
    async delete(name, { force }) {
      if (force) {
        // The lake refuses to delete a bucket that holds objects, as S3 does: empty it first.
        for (;;) {
          const page = await lake.listObjects(name, { maxKeys: 1000 });
          if (page.objects.length === 0) break;
          for (const object of page.objects) await lake.deleteObject(name, object.key);
        }
      }
      await lake.deleteBucket(name);
    },
    holdsData: async (name) => (await lake.listObjects(name, { maxKeys: 1 })).objects.length > 0,
  };
  const stream: ResourceDriver = {
    async read(name) {
      const found = await orNull(() => streams.describeStream(name));
      return found ? { shards: found.Shards.length, retentionHours: found.RetentionPeriodHours } : null;
    },
    create: async (name, p) =>
      void (await streams.createStream(name, Number(p.shards), { retentionHours: Number(p.retentionHours) })),
    delete: (name) => streams.deleteStream(name),
  };
  const connector: ResourceDriver = {
    async read(name) {
      const found = await orNull(() => connectors.describe(name));
      return found
        ? {
            stream: found.stream,
            database: found.database,
            table: found.table,
            mapping: found.mapping,
            from: found.from,
          }
        : null;
    },
    async create(name, p) {
      await connectors.create({
        name,
        stream: String(p.stream),
        database: String(p.database),
        table: String(p.table),
        mapping: p.mapping as ConnectorMapping,
        ...(p.from === undefined ? {} : { from: String(p.from) }),
      });
    },
    replaceable: true,
    delete: (name) => connectors.delete(name),
  };
  return { database, table, bucket, stream, connector };
}

function tableSettings(p: Record<string, unknown>) {
  return {
    RetentionProperties: {
      MemoryStoreRetentionPeriodInHours: Number(p.memoryHours),
      MagneticStoreRetentionPeriodInDays: Number(p.magneticDays),
    },
    MagneticStoreWriteProperties: { EnableMagneticStoreWrites: Boolean(p.magneticWrites) },
  };
}

/** Runs `work` with the stack's drivers: over HTTP when a server runs, else on the state folder. */
export async function withStackTarget<T>(
  command: Command,
  work: (target: StackTarget, where: { remote: boolean; stateDir: string }) => Promise<T>,
): Promise<T> {
  const config = await configFrom(command);
  const url = serverUrl(command, config);
  if (url) {
    const http = new HttpClient(url);
    return work(
      driversOf(
        new RemoteStore(http),
        new RemoteStream(http),
        new RemoteConnectors(http),
        new RemoteLake(http),
      ),
      { remote: true, stateDir: config.stateDir },
    );
  }
  const store = await TimestreamStore.open({
    dir: config.stateDir,
    sweepIntervalMs: 0,
    limits: queryLimitsOf(config),
  });
  try {
    const streamService = await openStreamService({ dir: config.stateDir, sweepIntervalMs: 0 });
    try {
      const lake = openLocalLake(config.lakeDir);
      return await work(
        driversOf(store, localStreamClient(streamService), new OfflineConnectors(config.stateDir), lake),
        {
          remote: false,
          stateDir: config.stateDir,
        },
      );
    } finally {
      await streamService.close();
    }
  } finally {
    await store.close();
  }
}

/**
 * The HTTP client of Hourglass's REST API (docs/api.md). The CLI uses it when a server is running;
 * it offers the same methods as the local services so commands do not care which they have.
 */
import { type ErrorCode, HourglassError } from "../errors.js";
import type {
  CreateTableInput,
  DatabaseDescription,
  QueryInput,
  QueryResponse,
  StoreService,
  TableDescription,
  UpdateTableInput,
  WriteRecordsRequest,
  WriteResult,
} from "../store/index.js";
import type {
  ConnectorAdmin,
  ConnectorDefinitionInput,
  ConnectorDescription,
  StreamClient,
} from "../stream/connector/index.js";
import type {
  GetRecordsOutput,
  PutRecordInput,
  PutRecordsOutput,
  ShardStats,
  StreamDescription,
  UpdateShardCountOutput,
} from "../stream/index.js";

export class HttpClient {
  constructor(readonly baseUrl: string) {}

  async call<T>(method: string, route: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(new URL(route, this.baseUrl), {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new HourglassError(
        "Internal",
        `cannot reach the Hourglass server at ${this.baseUrl}: ${String(error)}`,
        {
          retryable: true,
        },
      );
    }
    const text = await response.text();
    const payload = text ? JSON.parse(text) : undefined;
    if (!response.ok) {
      const error = (payload?.error ?? {}) as {
        code?: ErrorCode;
        message?: string;
        context?: Record<string, unknown>;
      };
      throw new HourglassError(
        error.code ?? "Internal",
        error.message ?? `HTTP ${response.status} from ${route}`,
        {
          context: error.context,
        },
      );
    }
    return payload as T;
  }
}

const enc = encodeURIComponent;

export class RemoteStore implements StoreService {
  constructor(private readonly http: HttpClient) {}

  createDatabase(name: string): Promise<DatabaseDescription> {
    return this.http.call("POST", "/api/v1/databases", { DatabaseName: name });
  }
  describeDatabase(name: string): Promise<DatabaseDescription> {
    return this.http.call("GET", `/api/v1/databases/${enc(name)}`);
  }
  async listDatabaseDescriptions(): Promise<DatabaseDescription[]> {
    return (await this.http.call<{ Databases: DatabaseDescription[] }>("GET", "/api/v1/databases")).Databases;
  }
  updateDatabase(name: string): Promise<DatabaseDescription> {
    return this.http.call("PATCH", `/api/v1/databases/${enc(name)}`, {});
  }
  async deleteDatabase(name: string): Promise<void> {
    await this.http.call("DELETE", `/api/v1/databases/${enc(name)}`);
  }
  createTable(input: CreateTableInput): Promise<TableDescription> {
    return this.http.call("POST", `/api/v1/databases/${enc(input.DatabaseName)}/tables`, input);
  }
  describeTable(database: string, table: string): Promise<TableDescription> {
    return this.http.call("GET", `/api/v1/databases/${enc(database)}/tables/${enc(table)}`);
  }
  async listTableDescriptions(database?: string): Promise<TableDescription[]> {
    const route = database === undefined ? "/api/v1/tables" : `/api/v1/databases/${enc(database)}/tables`;
    return (await this.http.call<{ Tables: TableDescription[] }>("GET", route)).Tables;
  }
  updateTable(input: UpdateTableInput): Promise<TableDescription> {
    return this.http.call(
      "PATCH",
      `/api/v1/databases/${enc(input.DatabaseName)}/tables/${enc(input.TableName)}`,
      input,
    );
  }
  async deleteTable(database: string, table: string): Promise<void> {
    await this.http.call("DELETE", `/api/v1/databases/${enc(database)}/tables/${enc(table)}`);
  }
  writeRecords(request: WriteRecordsRequest): Promise<WriteResult> {
    return this.http.call(
      "POST",
      `/api/v1/databases/${enc(request.DatabaseName)}/tables/${enc(request.TableName)}/records`,
      request,
    );
  }
  query(input: QueryInput): Promise<QueryResponse> {
    return this.http.call("POST", "/api/v1/query", input);
  }
}

/** The stream over the REST API (src/api/rest/stream-routes.ts): record data travels as base64. */
export class RemoteStream implements StreamClient {
  constructor(private readonly http: HttpClient) {}

  async createStream(
    name: string,
    shardCount: number,
    opts: { retentionHours?: number } = {},
  ): Promise<StreamDescription> {
    const body = {
      StreamName: name,
      ShardCount: shardCount,
      ...(opts.retentionHours === undefined ? {} : { RetentionPeriodHours: opts.retentionHours }),
    };
    return describedStream(await this.http.call("POST", "/api/v1/streams", body));
  }
  async listStreams(): Promise<string[]> {
    return (await this.http.call<{ StreamNames: string[] }>("GET", "/api/v1/streams")).StreamNames;
  }
  async describeStream(name: string): Promise<StreamDescription> {
    return describedStream(await this.http.call("GET", `/api/v1/streams/${enc(name)}`));
  }
  async getShardStats(name: string): Promise<ShardStats[]> {
    const { Shards } = await this.http.call<{ Shards: ShardStats[] }>(
      "GET",
      `/api/v1/streams/${enc(name)}/stats`,
    );
    return Shards.map((s) => ({
      ...s,
      LastArrivalTimestamp: s.LastArrivalTimestamp === null ? null : new Date(s.LastArrivalTimestamp),
    }));
  }
  async deleteStream(name: string): Promise<void> {
    await this.http.call("DELETE", `/api/v1/streams/${enc(name)}`);
  }
  async splitShard(name: string, shardToSplit: string, newStartingHashKey: string): Promise<void> {
    await this.http.call("POST", `/api/v1/streams/${enc(name)}/shards/split`, {
      ShardToSplit: shardToSplit,
      NewStartingHashKey: newStartingHashKey,
    });
  }
  async mergeShards(name: string, shardToMerge: string, adjacentShardToMerge: string): Promise<void> {
    await this.http.call("POST", `/api/v1/streams/${enc(name)}/shards/merge`, {
      ShardToMerge: shardToMerge,
      AdjacentShardToMerge: adjacentShardToMerge,
    });
  }
  updateShardCount(name: string, targetShardCount: number): Promise<UpdateShardCountOutput> {
    return this.http.call("POST", `/api/v1/streams/${enc(name)}/shard-count`, {
      TargetShardCount: targetShardCount,
    });
  }
  putRecords(name: string, records: PutRecordInput[]): Promise<PutRecordsOutput> {
    return this.http.call("POST", `/api/v1/streams/${enc(name)}/records`, {
      Records: records.map((r) => ({
        Data: Buffer.from(r.Data).toString("base64"),
        PartitionKey: r.PartitionKey,
        ...(r.ExplicitHashKey === undefined ? {} : { ExplicitHashKey: r.ExplicitHashKey }),
      })),
    });
  }
  async readRecords(
    name: string,
    shardId: string,
    from: string,
    options: { limit?: number; waitMs?: number } = {},
  ): Promise<GetRecordsOutput> {
    const query = new URLSearchParams({ from });
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    if (options.waitMs !== undefined) query.set("waitMs", String(options.waitMs));
    const page = await this.http.call<{
      Records: {
        SequenceNumber: string;
        ApproximateArrivalTimestamp: string;
        Data: string;
        PartitionKey: string;
      }[];
      NextShardIterator: string | null;
      MillisBehindLatest: number;
    }>("GET", `/api/v1/streams/${enc(name)}/shards/${enc(shardId)}/records?${query}`);
    return {
      Records: page.Records.map((r) => ({
        SequenceNumber: r.SequenceNumber,
        ApproximateArrivalTimestamp: new Date(r.ApproximateArrivalTimestamp),
        Data: Buffer.from(r.Data, "base64"),
        PartitionKey: r.PartitionKey,
      })),
      NextShardIterator: page.NextShardIterator,
      MillisBehindLatest: page.MillisBehindLatest,
    };
  }
}

/** The server's managed connectors over the REST API (src/api/rest/connector-routes.ts). */
export class RemoteConnectors implements ConnectorAdmin {
  constructor(private readonly http: HttpClient) {}

  create(input: ConnectorDefinitionInput): Promise<ConnectorDescription> {
    return this.http.call("POST", "/api/v1/connectors", input);
  }
  async list(): Promise<ConnectorDescription[]> {
    return (await this.http.call<{ connectors: ConnectorDescription[] }>("GET", "/api/v1/connectors"))
      .connectors;
  }
  describe(name: string): Promise<ConnectorDescription> {
    return this.http.call("GET", `/api/v1/connectors/${enc(name)}`);
  }
  start(name: string): Promise<ConnectorDescription> {
    return this.http.call("POST", `/api/v1/connectors/${enc(name)}/start`);
  }
  stop(name: string): Promise<ConnectorDescription> {
    return this.http.call("POST", `/api/v1/connectors/${enc(name)}/stop`);
  }
  async delete(name: string): Promise<void> {
    await this.http.call("DELETE", `/api/v1/connectors/${enc(name)}`);
  }
}

/** JSON carries the creation time as text: give callers the Date the local service gives. */
function describedStream(description: StreamDescription): StreamDescription {
  return { ...description, StreamCreationTimestamp: new Date(description.StreamCreationTimestamp) };
}

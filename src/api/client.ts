/**
 * The HTTP client of Hourglass's REST API (docs/api.md). The CLI uses it when a server is running;
 * it offers the same methods as the local services so commands do not care which they have.
 */
import { type ErrorCode, HourglassError } from "../errors.js";
import type { StoreService } from "../store/service.js";
import type {
  CreateTableInput,
  DatabaseDescription,
  QueryInput,
  QueryResponse,
  TableDescription,
  UpdateTableInput,
  WriteRecordsRequest,
  WriteResult,
} from "../store/types.js";

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

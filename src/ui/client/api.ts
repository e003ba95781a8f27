/** Calls to the REST API (/api/v1, docs/api.md) and the shapes the pages read. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly context: Record<string, unknown>,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const response = await fetch(`/api/v1${path}`, {
    method: init.method ?? "GET",
    headers: init.body === undefined ? {} : { "content-type": "application/json" },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown;
  try {
    json = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new ApiError(
      response.status,
      "Internal",
      `the server answered ${response.status} with: ${text.slice(0, 200)}`,
      {},
    );
  }
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string; context?: Record<string, unknown> } })
      .error;
    throw new ApiError(
      response.status,
      error?.code ?? "Internal",
      error?.message ?? `HTTP ${response.status}`,
      error?.context ?? {},
    );
  }
  return json as T;
}

export const enc = encodeURIComponent;

export interface DagView {
  dagId: string;
  filePath: string;
  codeVersion: string;
  schedule: string | null;
  timezone: string;
  catchup: boolean;
  maxActiveRuns: number;
  isPaused: boolean;
  isActive: boolean;
  lastScheduledIntervalEnd: string | null;
  importError: string | null;
}

export interface ParamSpec {
  name: string;
  type: "string" | "number" | "integer" | "boolean" | "array" | "object";
  default?: unknown;
  description?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
}

export interface DagDetails extends DagView {
  description: string | null;
  tasks: Array<{ taskId: string; upstream: string[]; downstream: string[]; kind: string; retries: number }>;
  /** null: the DAG validates its conf with a schema of its own (no form). */
  params: ParamSpec[] | null;
}

export interface RunView {
  dagId: string;
  runId: string;
  runType: string;
  state: string;
  logicalDate: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
  conf: Record<string, unknown>;
  codeVersion: string | null;
  startedAt: string | null;
  endedAt: string | null;
}

export interface TaskInstanceView {
  taskId: string;
  state: string;
  tryNumber: number;
  maxTries: number;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  error: string | null;
  codeVersion: string | null;
}

export interface TryView {
  tryNumber: number;
  state: string;
  workerId: string | null;
  startedAt: string;
  endedAt: string | null;
  error: string | null;
  codeVersion: string | null;
}

export interface GridAnswer {
  dagId: string;
  tasks: string[];
  stateCodes: Record<string, string>;
  runs: { runId: string[]; start: number[]; end: number[]; state: string; type: string; tasks: string[] };
}

export interface BackfillView {
  id: number;
  dagId: string;
  from: string;
  to: string;
  reprocess: string;
  maxActiveRuns: number;
  state: string;
  total: number;
  createdAt: string;
  progress?: {
    done: number;
    total: number;
    succeeded: number;
    failed: number;
    skipped: number;
    running: number;
    queued: number;
  };
}

export interface BackfillPlan {
  intervals: Array<{ start: string; end: string; runId: string; existing?: unknown; action?: string }>;
  warnings: string[];
}

export interface QueryAnswer {
  ColumnInfo: Array<{ Name: string; Type: { ScalarType?: string } }>;
  Rows: Array<{ Data: Array<{ ScalarValue?: string; NullValue?: boolean }> }>;
  NextToken?: string;
}

export interface TableView {
  DatabaseName: string;
  TableName: string;
  RetentionProperties: {
    MemoryStoreRetentionPeriodInHours: number;
    MagneticStoreRetentionPeriodInDays: number;
  };
  Schema?: Array<{ Name: string; Type: string; Role: string }>;
  CreationTime: string;
}

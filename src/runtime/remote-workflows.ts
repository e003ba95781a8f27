/**
 * The workflow calls over HTTP (src/api/rest/workflow-routes.ts): what the CLI uses when a server
 * is running, with the same answers as the in-process WorkflowService.
 */
import type { HttpClient } from "../api/remote.js";
import type {
  BackfillCreated,
  BackfillRequest,
  BackfillView,
  ClearedView,
  ClearRequest,
  DagDetails,
  DagView,
  ImportErrorView,
  RunDetails,
  RunFilterRequest,
  RunView,
  TaskLogView,
  TaskStateView,
  TriggerRequest,
  WorkflowApi,
} from "../workflows/scheduler/index.js";

const enc = encodeURIComponent;

export class RemoteWorkflows implements WorkflowApi {
  constructor(private readonly http: HttpClient) {}

  async listDags(): Promise<DagView[]> {
    return (await this.http.call<{ dags: DagView[] }>("GET", "/api/v1/dags")).dags;
  }
  getDag(dagId: string): Promise<DagDetails> {
    return this.http.call("GET", `/api/v1/dags/${enc(dagId)}`);
  }
  setPaused(dagId: string, paused: boolean): Promise<DagView> {
    return this.http.call("POST", `/api/v1/dags/${enc(dagId)}/${paused ? "pause" : "unpause"}`);
  }
  trigger(dagId: string, request: TriggerRequest = {}): Promise<RunView> {
    return this.http.call("POST", `/api/v1/dags/${enc(dagId)}/runs`, request);
  }
  async importErrors(): Promise<ImportErrorView[]> {
    return (await this.http.call<{ importErrors: ImportErrorView[] }>("GET", "/api/v1/import-errors"))
      .importErrors;
  }
  async listRuns(filter: RunFilterRequest = {}): Promise<RunView[]> {
    const query = new URLSearchParams();
    if (filter.dagId !== undefined) query.set("dagId", filter.dagId);
    if (filter.states !== undefined) query.set("state", filter.states.join(","));
    if (filter.runTypes !== undefined) query.set("runType", filter.runTypes.join(","));
    if (filter.limit !== undefined) query.set("limit", String(filter.limit));
    return (await this.http.call<{ runs: RunView[] }>("GET", `/api/v1/runs?${query}`)).runs;
  }
  getRun(dagId: string, runId: string): Promise<RunDetails> {
    return this.http.call("GET", `/api/v1/dags/${enc(dagId)}/runs/${enc(runId)}`);
  }
  markRun(dagId: string, runId: string, state: "success" | "failed"): Promise<RunView> {
    return this.http.call("PATCH", `/api/v1/dags/${enc(dagId)}/runs/${enc(runId)}`, { state });
  }
  taskState(dagId: string, runId: string, taskId: string): Promise<TaskStateView> {
    return this.http.call("GET", `/api/v1/dags/${enc(dagId)}/runs/${enc(runId)}/tasks/${enc(taskId)}`);
  }
  clear(request: ClearRequest): Promise<ClearedView> {
    const { dagId, ...body } = request;
    return this.http.call("POST", `/api/v1/dags/${enc(dagId)}/clear`, body);
  }
  taskLog(dagId: string, runId: string, taskId: string, tryNumber?: number): Promise<TaskLogView> {
    const base = `/api/v1/dags/${enc(dagId)}/runs/${enc(runId)}/tasks/${enc(taskId)}/logs`;
    return this.http.call("GET", tryNumber === undefined ? base : `${base}/${tryNumber}`);
  }
  createBackfill(request: BackfillRequest): Promise<BackfillCreated> {
    return this.http.call("POST", "/api/v1/backfills", request);
  }
  async listBackfills(filter: { dagId?: string } = {}): Promise<BackfillView[]> {
    const query = filter.dagId === undefined ? "" : `?dagId=${enc(filter.dagId)}`;
    return (await this.http.call<{ backfills: BackfillView[] }>("GET", `/api/v1/backfills${query}`))
      .backfills;
  }
  getBackfill(backfillId: number): Promise<BackfillView> {
    return this.http.call("GET", `/api/v1/backfills/${backfillId}`);
  }
  pauseBackfill(backfillId: number): Promise<BackfillView> {
    return this.http.call("POST", `/api/v1/backfills/${backfillId}/pause`);
  }
  resumeBackfill(backfillId: number): Promise<BackfillView> {
    return this.http.call("POST", `/api/v1/backfills/${backfillId}/resume`);
  }
  cancelBackfill(backfillId: number): Promise<BackfillView> {
    return this.http.call("POST", `/api/v1/backfills/${backfillId}/cancel`);
  }
}

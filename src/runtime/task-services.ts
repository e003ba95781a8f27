/**
 * TaskServices, the way workers reach the store and the export path. A worker process talks to
 * the server over HTTP (`createRemoteTaskServices`); code running in the server's own process, and
 * tests, use the store and an export service directly (`createLocalTaskServices`).
 */
import { HttpClient, RemoteStore } from "../api/remote.js";
import type { Lake } from "../lake/index.js";
import { createExportService, type ExportingStore } from "../operators/index.js";
import type { StoreService } from "../store/index.js";
import type { ExportToLakeRequest, ExportToLakeResult, TaskServices } from "../workflows/index.js";

/** The route `exportRoutes` serves under /api/v1. */
export const exportsRoute = "/api/v1/exports";

/** The server's cheapest route, for warming the connection up. */
const healthRoute = "/health";

export function createRemoteTaskServices(baseUrl: string): TaskServices {
  const http = new HttpClient(baseUrl);
  // Node loads its HTTP client (fetch) on first use and then opens a keep-alive connection: 30 to
  // 150 ms in a fresh worker process here. Done now, while the worker waits for work, the first
  // task's export does not wait for it. A server that is not up yet costs nothing here: the first
  // real call reports it.
  void http.call("GET", healthRoute).catch(() => undefined);
  return {
    store: new RemoteStore(http),
    exportToLake: (request: ExportToLakeRequest) =>
      http.call<ExportToLakeResult>("POST", exportsRoute, request),
  };
}

export function createLocalTaskServices(options: {
  store: StoreService & ExportingStore;
  lake: Lake;
  clockMs?: () => number;
}): TaskServices {
  const exports = createExportService(options);
  return { store: options.store, exportToLake: (request) => exports.exportToLake(request) };
}

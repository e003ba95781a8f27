/**
 * What every command needs: the resolved configuration, and the services, reached over HTTP when
 * a server runs for this state folder, or opened in-process when none does.
 */
import type { Command } from "commander";
import { HttpClient, RemoteStore, readServerInfo } from "../api/remote.js";
import type { HourglassConfig } from "../config.js";
import type { StoreService } from "../store/index.js";

export interface GlobalOptions {
  stateDir?: string;
  config?: string;
  server?: string;
}

/** Async: the configuration's checks (zod) and YAML load when a command runs, not for --help. */
export async function configFrom(command: Command): Promise<HourglassConfig> {
  const globals = command.optsWithGlobals() as GlobalOptions;
  const { resolveConfig } = await import("../config.js");
  return resolveConfig({ flags: { stateDir: globals.stateDir, config: globals.config } });
}

/** The server to talk to: --server, else the one running for this state folder, else none. */
export function serverUrl(command: Command, config: HourglassConfig): string | null {
  const globals = command.optsWithGlobals() as GlobalOptions;
  if (globals.server) return globals.server;
  return readServerInfo(config.stateDir)?.url ?? null;
}

export async function withStore<T>(command: Command, work: (store: StoreService) => Promise<T>): Promise<T> {
  const config = await configFrom(command);
  const url = serverUrl(command, config);
  if (url) return work(new RemoteStore(new HttpClient(url)));
  // DuckDB loads only when a command opens the state folder itself (not for --help, not over HTTP).
  const [{ TimestreamStore }, { queryLimitsOf }, { openLocalLake }] = await Promise.all([
    import("../store/index.js"),
    import("../config.js"),
    import("../lake/index.js"),
  ]);
  const store = await TimestreamStore.open({
    dir: config.stateDir,
    sweepIntervalMs: 0,
    limits: queryLimitsOf(config),
    // UNLOAD writes to the state folder's lake, as it would through the server.
    lake: openLocalLake(config.lakeDir),
  });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

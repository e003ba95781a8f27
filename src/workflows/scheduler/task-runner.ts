/**
 * Running one task instance: load its DAG file (cached by code version), build the task context,
 * call `run(ctx)` (and hand a descriptor it returns to the operator registry) or run the task's
 * operator, and stop at the abort signal. Used by worker processes and by `hourglass dags test`.
 */
import { readFile } from "node:fs/promises";
import { HourglassError, notFound } from "../../errors.js";
import { createTaskContext, type OperatorRunner, type RunType } from "../context.js";
import { type Dag, getTask } from "../dag.js";
import { dagCodeVersion, loadDagFile, readDependencies } from "../loader.js";
import { resolveParams } from "../params.js";
import { isOperatorDescriptor } from "../task.js";
import type { ExportToLakeResult, TaskServices } from "../task-contract.js";
import type { ExportWritten } from "./messages.js";

export interface LoadedTaskDag {
  dag: Dag;
  codeVersion: string;
}

/**
 * DAG files loaded by a worker, by file and code version: a file is imported again only when its
 * text, or the text of a local file it imported when it last loaded (a helper next to it), changed.
 * Each get() reads those files and hashes them as the loader does (dagCodeVersion), so a task runs
 * the code its files hold now.
 */
export class DagFileCache {
  /** Loaded DAG files by file and code version; a handful of versions at most. */
  readonly #loaded = new Map<string, LoadedFile>();
  /** The dependencies each file had at its latest load: what its current version is made of. */
  readonly #dependencies = new Map<string, readonly string[]>();
  /** Loads under way, by file, so a preload and the first task do not import a file twice. */
  readonly #loading = new Map<string, Promise<LoadedFile>>();

  async get(file: string, dagId: string): Promise<LoadedTaskDag> {
    const loaded = await this.#current(file, dagId);
    const found = loaded.dags.get(dagId);
    if (found === undefined)
      throw notFound(`the DAG file ${file} no longer defines DAG ${dagId}`, { file, dagId });
    return found;
  }

  async #current(file: string, dagId: string): Promise<LoadedFile> {
    for (let waited = false; ; waited = true) {
      let text: Buffer;
      try {
        text = await readFile(file);
      } catch (error) {
        throw notFound(`the DAG file ${file} of ${dagId} cannot be read: ${String(error)}`, { file, dagId });
      }
      const dependencies = this.#dependencies.get(file) ?? [];
      const version = dagCodeVersion(file, text, await readDependencies(dependencies));
      const hit = this.#loaded.get(cacheKey(file, version));
      if (hit !== undefined) return hit;
      const underWay = this.#loading.get(file);
      if (underWay !== undefined && !waited) {
        // Its result (and the dependencies it finds) may be the version wanted: look again after it.
        await underWay.catch(() => undefined);
        continue;
      }
      const loading = this.#load(file);
      this.#loading.set(file, loading);
      try {
        return await loading;
      } finally {
        if (this.#loading.get(file) === loading) this.#loading.delete(file);
      }
    }
  }

  async #load(file: string): Promise<LoadedFile> {
    const load = await loadDagFile(file);
    if (load.importErrors.length > 0) {
      const first = load.importErrors[0]!;
      throw new HourglassError(
        "ValidationError",
        `the DAG file ${file} does not load: ${first.message}${first.line === undefined ? "" : ` (line ${first.line})`}`,
      );
    }
    const loaded: LoadedFile = {
      dags: new Map(load.dags.map((d) => [d.dag.id, { dag: d.dag, codeVersion: d.codeVersion }])),
    };
    // Kept under the version the load computed from the texts it imported: the next get() with
    // the same texts finds it. (A file that defines no DAG is simply loaded again each time.)
    const first = load.dags[0];
    if (first !== undefined) {
      this.#dependencies.set(file, first.dependencies);
      const key = cacheKey(file, first.codeVersion);
      this.#loaded.delete(key);
      this.#loaded.set(key, loaded);
      // A long-lived worker must not keep every edit.
      if (this.#loaded.size > 64) this.#loaded.delete(this.#loaded.keys().next().value!);
    }
    return loaded;
  }
}

interface LoadedFile {
  dags: Map<string, LoadedTaskDag>;
}

const cacheKey = (file: string, version: string) => `${file}\u0000${version}`;

export interface TaskRunInput {
  dagId: string;
  taskId: string;
  runId: string;
  runType: RunType;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  logicalDate: Date;
  tryNumber: number;
  conf: Record<string, unknown>;
}

export interface TaskRunResult {
  /** What run() or the operator returned. */
  result: unknown;
  exports: ExportWritten[];
}

/** Runs the task; throws what the task threw, or a Timeout/cancel error once `signal` aborts. */
export async function runTask(
  loaded: LoadedTaskDag,
  input: TaskRunInput,
  options: {
    services: TaskServices;
    /** Runs operator descriptors (the operators part's runOperator): given, so workflows never import operators. */
    runOperator: OperatorRunner;
    signal: AbortSignal;
    log: (message: string) => void;
    /** Called right before the task's own code runs (after the context is built). */
    onStart?: () => void;
  },
): Promise<TaskRunResult> {
  const { dag, codeVersion } = loaded;
  const task = getTask(dag, input.taskId);
  if (task === undefined) {
    throw notFound(`DAG ${dag.id} has no task ${input.taskId} (any more)`, {
      dagId: dag.id,
      taskId: input.taskId,
    });
  }
  const exports: ExportWritten[] = [];
  const services: TaskServices = {
    store: options.services.store,
    exportToLake: async (request) => {
      const result: ExportToLakeResult = await options.services.exportToLake(request);
      if (result.written) {
        exports.push({ bucket: result.bucket, key: result.key, rows: result.rows, bytes: result.bytes });
      }
      return result;
    },
  };
  const params = resolveParams(dag.params, input.conf);
  const ctx = createTaskContext({
    dagId: dag.id,
    taskId: task.id,
    runType: input.runType,
    runId: input.runId,
    dataInterval: { start: input.dataIntervalStart, end: input.dataIntervalEnd },
    logicalDate: input.logicalDate,
    tryNumber: input.tryNumber,
    conf: input.conf,
    params,
    log: options.log,
    signal: options.signal,
    services,
  });
  options.log(
    `Running ${dag.id}.${task.id} for ${input.runId}, try ${input.tryNumber}, interval [${ctx.sql.start}, ${ctx.sql.end}), code version ${codeVersion}`,
  );
  options.onStart?.();
  const work = (async () => {
    let result: unknown;
    if (task.run !== undefined) {
      result = await task.run(ctx);
      if (isOperatorDescriptor(result))
        result = await options.runOperator(result, ctx, services, { codeVersion });
    } else {
      result = await options.runOperator(task.operator!, ctx, services, { codeVersion });
    }
    return result;
  })();
  const result = await untilAborted(work, options.signal);
  options.log(`Done. Returned value was: ${summarize(result)}`);
  return { result, exports };
}

/** The work's outcome, or a rejection as soon as the signal aborts (a task may ignore its signal). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error
    ? reason
    : new HourglassError("Conflict", `the task was stopped: ${String(reason)}`);
}

function summarize(value: unknown): string {
  if (value === undefined) return "None";
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

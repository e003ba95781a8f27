/**
 * The DAG processor: DAG files are imported in a separate parse process, never in the server's
 * own, as Airflow's DAG processor does. A DAG file is code; at import it may loop for ever,
 * allocate without end or call process.exit. In a child process each of these can only take that
 * process down: the server kills it once a file has been importing for `importTimeoutMs` (30 s by
 * default, Airflow's dagbag_import_timeout), caps its heap with `--max-old-space-size`, and sees
 * it die. The file at fault becomes an import error with the reason, and a new parse process goes
 * on with the files after it. The server's event loop keeps serving throughout.
 *
 * What comes back is each DAG's structure, serialized (serialized-dag.ts); task functions stay in
 * the DAG files, which only worker processes import to run tasks.
 */
import { type ChildProcess, fork } from "node:child_process";
import { ownCodeExecArgv, ownEntry } from "../own-code.js";
import { checkDir, listDagFiles } from "./dag-files.js";
import {
  type DagBag,
  defaultImportTimeoutMs,
  type FileLoad,
  type ImportError,
  type LoadedDag,
  type LoadWarning,
  mergeFileLoads,
} from "./loader.js";
import { deserializeDag, type SerializedDag } from "./serialized-dag.js";

/** Heap of the parse process (MB): far above what DAG files need, far below what hurts the machine. */
export const defaultParseMemoryMb = 1024;

export interface ParseOptions {
  /** A file still importing after this long is stopped and becomes an import error (default 30 s). */
  importTimeoutMs?: number;
  /** The parse process's heap limit, `--max-old-space-size` (default 1024 MB). */
  memoryLimitMb?: number;
  /** Where lines the DAG files print while importing go (default: the server's stderr, prefixed). */
  onOutput?: (line: string) => void;
}

/** What the parse process sends back for one file. */
export interface SerializedFileLoad {
  dags: Array<Omit<LoadedDag, "dag" | "dependencies"> & { dag: SerializedDag; dependencies: string[] }>;
  importErrors: ImportError[];
  warnings: LoadWarning[];
}

export type ParseRequest = { type: "parse"; files: string[]; importTimeoutMs: number };
export type ParseReply =
  | { type: "ready" }
  | { type: "parsed"; file: string; load: SerializedFileLoad }
  | { type: "done" };

const entry = ownEntry("./dag-processor-entry", import.meta.url);

/** How long a parse process may take to load Hourglass before its first file (a busy machine is slow). */
const startupLimitMs = (importTimeoutMs: number) => Math.max(60_000, importTimeoutMs * 2);

/** "30 s", "0.5 s": a limit as a person reads it. */
export const secondsText = (ms: number): string => `${Number((ms / 1000).toFixed(3))} s`;

/**
 * Loads every DAG file in `dir` in parse processes (see the file's comment); resolves with the
 * same DagBag as loadDags, its DAGs rebuilt from their serialized form. Never throws for a broken
 * DAG file; throws when the folder is missing or no parse process can start.
 */
export async function parseDags(dir: string, options: ParseOptions = {}): Promise<DagBag> {
  const root = await checkDir(dir);
  const files = await listDagFiles(root);
  const loads = new Map<string, FileLoad>();
  let rest = files;
  while (rest.length > 0) {
    const pass = await parseInChild(rest, options);
    for (const [file, load] of pass.loads) loads.set(file, load);
    if (pass.failed === null) break;
    // The file at fault is the one after the last result: it becomes the import error.
    const index = rest.indexOf(pass.failed.file);
    loads.set(pass.failed.file, {
      dags: [],
      importErrors: [{ file: pass.failed.file, message: pass.failed.reason }],
      warnings: [],
    });
    rest = rest.slice(index + 1);
  }
  return mergeFileLoads(
    root,
    files,
    files.map((file) => loads.get(file)).filter((load): load is FileLoad => load !== undefined),
  );
}

interface PassResult {
  loads: Map<string, FileLoad>;
  /** The file the parse process was importing when it was stopped or died, and why. */
  failed: { file: string; reason: string } | null;
}

function parseInChild(files: readonly string[], options: ParseOptions): Promise<PassResult> {
  const timeoutMs = options.importTimeoutMs ?? defaultImportTimeoutMs;
  const memoryMb = options.memoryLimitMb ?? defaultParseMemoryMb;
  const onOutput = options.onOutput ?? ((line: string) => process.stderr.write(`[dag processor] ${line}\n`));
  const child: ChildProcess = fork(entry, [], {
    execArgv: [...ownCodeExecArgv(), `--max-old-space-size=${memoryMb}`],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    serialization: "json",
  });
  const loads = new Map<string, FileLoad>();
  let next = 0;
  let started = false;
  let finished = false;
  let stopReason: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  const stderrTail: string[] = [];
  const pending = { stdout: "", stderr: "" };
  const output = (stream: "stdout" | "stderr", text: string) => {
    const lines = (pending[stream] + text).split("\n");
    pending[stream] = lines.pop() ?? "";
    for (const line of lines) {
      if (stream === "stderr") {
        stderrTail.push(line);
        if (stderrTail.length > 50) stderrTail.shift();
      }
      if (line.trim() !== "") onOutput(line);
    }
  };
  child.stdout?.on("data", (chunk: Buffer) => output("stdout", chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => output("stderr", chunk.toString()));
  // The clock of the file being imported starts when the previous one is done.
  const armTimer = () => {
    clearTimeout(timer);
    if (next >= files.length) return;
    timer = setTimeout(() => {
      stopReason = `timed out after ${secondsText(timeoutMs)} while importing (the limit is dagImportTimeoutMs); the import was stopped`;
      child.kill("SIGKILL");
    }, timeoutMs);
  };

  // A parse process that cannot even load Hourglass (a broken install, a machine out of memory)
  // must not hold the load up for ever.
  const startLimitMs = startupLimitMs(timeoutMs);
  let startFailure: string | null = null;
  const startTimer = setTimeout(() => {
    startFailure = `the DAG processor's parse process was not ready after ${secondsText(startLimitMs)}`;
    child.kill("SIGKILL");
  }, startLimitMs);
  return new Promise<PassResult>((resolve, reject) => {
    child.on("message", (message: ParseReply) => {
      if (message.type === "ready") {
        clearTimeout(startTimer);
        started = true;
        child.send({ type: "parse", files: [...files], importTimeoutMs: timeoutMs } satisfies ParseRequest);
        armTimer();
      } else if (message.type === "parsed") {
        loads.set(message.file, deserializeLoad(message.load));
        next = Math.max(next, files.indexOf(message.file) + 1);
        armTimer();
      } else if (message.type === "done") {
        finished = true;
        clearTimeout(timer);
      }
    });
    child.on("error", (error) => {
      if (!started) reject(error);
    });
    // "close", not "exit": the last of its stderr (an out-of-memory report) is read by then.
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(startTimer);
      if (finished || next >= files.length) return resolve({ loads, failed: null });
      if (!started) {
        reject(
          new Error(
            `${startFailure ?? `the DAG processor's parse process ended before it was ready (${signal ?? `exit code ${code}`})`}: ${stderrTail.slice(-5).join(" | ")}`,
          ),
        );
        return;
      }
      const file = files[next]!;
      resolve({
        loads,
        failed: { file, reason: stopReason ?? deathReason(code, signal, stderrTail, memoryMb) },
      });
    });
  });
}

function deathReason(
  code: number | null,
  signal: NodeJS.Signals | null,
  stderr: string[],
  memoryMb: number,
): string {
  const text = stderr.join("\n");
  if (/heap out of memory|Reached heap limit|Allocation failed/i.test(text)) {
    return `ran out of memory while importing (the parse process may use ${memoryMb} MB, dagParseMemoryMb); the import was stopped`;
  }
  if (signal !== null) return `the parse process was killed by ${signal} while importing this file`;
  return `the parse process exited with code ${code} while importing this file (called process.exit(${code})?)`;
}

function deserializeLoad(load: SerializedFileLoad): FileLoad {
  return {
    dags: load.dags.map((loaded) => ({ ...loaded, dag: deserializeDag(loaded.dag) })),
    importErrors: load.importErrors,
    warnings: load.warnings,
  };
}

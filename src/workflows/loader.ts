/**
 * The DAG file loader: finds `*.ts`, `*.js` and `*.mjs` files in a dags folder, imports each one
 * afresh, and collects the DAGs they export. A file that fails (syntax error, throw at import,
 * invalid DAG) becomes an import error with its file and, when known, line and column; the other
 * files still load. Airflow's DagBag does the same.
 *
 * TypeScript DAG files load through tsx's namespaced ESM API, so they work in a plain `node`
 * process too. `import { dag, task } from "hourglass"` in a DAG file resolves to this package
 * wherever the file lives (see dag-import-hook.mjs). Every load gets a fresh copy of the DAG file
 * and the local files it imports, so an edit is seen on the next load. Node cannot unload ES
 * modules: each reload keeps the old copies in memory (a few KB per DAG file per reload).
 * Watching a folder for changes is in dag-watcher.ts. This loader runs DAG files' code in the
 * process that calls it: the scheduler calls it only inside the DAG processor's parse process
 * (dag-processor.ts), and workers to run tasks.
 *
 * The local files a DAG file imports while it loads (helpers next to it, JSON included; not
 * Hourglass and not node_modules) are its dependencies: its code version hashes them with it, so
 * an edited helper is a new code version, and a worker reloads the DAG when any of them changed.
 */
import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import module from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { MessageChannel, type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import { type Dag, isDag } from "./dag.js";
import { checkDir, listDagFiles } from "./dag-files.js";

export interface LoadedDag {
  readonly dag: Dag;
  /** Absolute path of the file that defines it. */
  readonly file: string;
  /** "default" or the name of the export. */
  readonly exportName: string;
  /**
   * Which code produced a run's output: the first 12 hex digits of the sha256 of the file's text,
   * or, when it imports local files, of its text and theirs (see dagCodeVersion).
   */
  readonly codeVersion: string;
  /** Absolute paths of the local files the DAG file imported as it loaded, sorted (not itself). */
  readonly dependencies: readonly string[];
}

export interface ImportError {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

export interface LoadWarning {
  readonly file: string;
  readonly dagId?: string;
  readonly message: string;
}

export interface DagBag {
  readonly dir: string;
  /** By DAG id. */
  readonly dags: ReadonlyMap<string, LoadedDag>;
  readonly importErrors: readonly ImportError[];
  readonly warnings: readonly LoadWarning[];
  /** Every DAG file looked at, sorted. */
  readonly files: readonly string[];
}

export interface FileLoad {
  readonly dags: readonly LoadedDag[];
  readonly importErrors: readonly ImportError[];
  readonly warnings: readonly LoadWarning[];
}

export const codeVersionOf = (text: string | Buffer): string =>
  createHash("sha256").update(text).digest("hex").slice(0, 12);

/**
 * The code version of a DAG file and the local files it depends on: codeVersionOf(text) when it
 * has none (so a self-contained file keeps the version it always had), else the sha256 of its
 * text followed by each dependency's path (relative to the file's folder) and text. A dependency
 * that cannot be read counts as its absence.
 */
export function dagCodeVersion(
  file: string,
  text: string | Buffer,
  dependencies: ReadonlyArray<{ path: string; text: string | Buffer | null }>,
): string {
  if (dependencies.length === 0) return codeVersionOf(text);
  const hash = createHash("sha256").update(text);
  const dir = path.dirname(file);
  for (const dependency of [...dependencies].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    hash.update(`\u0000${path.relative(dir, dependency.path)}\u0000`);
    hash.update(dependency.text ?? "\u0000(missing)");
  }
  return hash.digest("hex").slice(0, 12);
}

/** Reads the dependencies' texts for dagCodeVersion (null for one that cannot be read). */
export function readDependencies(
  dependencies: readonly string[],
): Promise<Array<{ path: string; text: Buffer | null }>> {
  return Promise.all(
    dependencies.map(async (dependency) => ({
      path: dependency,
      text: await readFile(dependency).catch(() => null),
    })),
  );
}

/** Imports every DAG file in `dir`; never throws for a broken DAG file (it becomes an import error). */
export interface LoadOptions {
  /** A file still importing after this long becomes an import error (Airflow's dagbag_import_timeout). */
  importTimeoutMs?: number;
}

export const defaultImportTimeoutMs = 30_000;

export async function loadDags(dir: string, options: LoadOptions = {}): Promise<DagBag> {
  const root = await checkDir(dir);
  const files = await listDagFiles(root);
  const loads: FileLoad[] = [];
  await importDagFiles(files, options, (_file, load) => {
    loads.push(load);
  });
  return mergeFileLoads(root, files, loads);
}

/**
 * Imports `files` one after the other in this process, within one load (local helpers shared by
 * several DAG files are evaluated once per load), handing each file's result to `onFile` as it
 * comes. The DAG processor's parse process runs this (see dag-processor.ts).
 */
export async function importDagFiles(
  files: readonly string[],
  options: LoadOptions,
  onFile: (file: string, load: FileLoad) => void | Promise<void>,
): Promise<void> {
  const token = randomUUID();
  const graph = dependencyGraphs.open(token);
  try {
    for (const file of files) await onFile(file, await importDagFile(file, token, graph, options));
  } finally {
    dependencyGraphs.close(token);
  }
}

/**
 * One bag from the files' loads (in path order): a DAG id defined by an earlier file wins, a later
 * definition becomes an import error of its file.
 */
export function mergeFileLoads(dir: string, files: readonly string[], loads: readonly FileLoad[]): DagBag {
  const dags = new Map<string, LoadedDag>();
  const importErrors: ImportError[] = [];
  const warnings: LoadWarning[] = [];
  for (const loaded of loads) {
    importErrors.push(...loaded.importErrors);
    warnings.push(...loaded.warnings);
    for (const found of loaded.dags) {
      const first = dags.get(found.dag.id);
      if (first !== undefined) {
        importErrors.push({
          file: found.file,
          message: `DAG id "${found.dag.id}" is already defined in ${first.file}; this definition is ignored`,
        });
        continue;
      }
      dags.set(found.dag.id, found);
    }
  }
  return { dir, dags, importErrors, warnings, files };
}

/** Imports one DAG file afresh. */
export async function loadDagFile(file: string, options: LoadOptions = {}): Promise<FileLoad> {
  const token = randomUUID();
  const graph = dependencyGraphs.open(token);
  try {
    return await importDagFile(path.resolve(file), token, graph, options);
  } finally {
    dependencyGraphs.close(token);
  }
}

// ---------------------------------------------------------------------------------------------

async function importDagFile(
  file: string,
  token: string,
  graph: DependencyGraph,
  options: LoadOptions,
): Promise<FileLoad> {
  const importErrors: ImportError[] = [];
  const warnings: LoadWarning[] = [];
  const dags: LoadedDag[] = [];
  let text: Buffer;
  try {
    text = await readFile(file);
  } catch (error) {
    return { dags, importErrors: [{ file, message: `cannot read the file: ${errorText(error)}` }], warnings };
  }
  let exports: Record<string, unknown>;
  try {
    exports = await withTimeout(importModule(file, token), options.importTimeoutMs ?? defaultImportTimeoutMs);
  } catch (error) {
    return { dags, importErrors: [{ file, ...locate(error, file) }], warnings };
  }
  const dependencies = graph.reachableFrom(file);
  const codeVersion = dagCodeVersion(file, text, await readDependencies(dependencies));
  const seen = new Set<Dag>();
  const byId = new Map<string, string>();
  for (const [exportName, value] of Object.entries(exports)) {
    if (!isDag(value) || seen.has(value)) continue;
    seen.add(value);
    const other = byId.get(value.id);
    if (other !== undefined) {
      importErrors.push({
        file,
        message: `exports "${other}" and "${exportName}" both define DAG id "${value.id}"`,
      });
      continue;
    }
    byId.set(value.id, exportName);
    dags.push({ dag: value, file, exportName, codeVersion, dependencies });
    for (const message of value.warnings) warnings.push({ file, dagId: value.id, message });
  }
  if (dags.length === 0 && importErrors.length === 0) {
    warnings.push({ file, message: "the file exports no DAG (export default dag({ … }))" });
  }
  return { dags, importErrors, warnings };
}

/** The import, or an error once `timeoutMs` passed (the import itself cannot be cancelled and may finish later). */
async function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${Number((timeoutMs / 1000).toFixed(3))} s while importing`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Registers the DAG import hooks and imports Hourglass's entry now, as a DAG file would: a process
 * that imports DAG files under a time limit (the parse process, a worker) pays this once, before
 * the clock of its first file starts.
 */
export async function warmUpDagImports(): Promise<void> {
  dagImporter();
  await dagImporter().import(hourglassEntryUrl(), import.meta.url);
}

interface DagImporter {
  import(url: string, parentUrl: string): Promise<Record<string, unknown>>;
}

const importerKey = Symbol.for("hourglass.dagImporter");

/** The imports seen during one load (one token): local file to the local files it imported. */
class DependencyGraph {
  readonly #edges = new Map<string, Set<string>>();

  add(parent: string, child: string): void {
    let children = this.#edges.get(parent);
    if (children === undefined) {
      children = new Set();
      this.#edges.set(parent, children);
    }
    children.add(child);
  }

  /** Every file `file` imported, directly or through others, sorted; not `file` itself. */
  reachableFrom(file: string): string[] {
    dependencyGraphs.drain();
    const seen = new Set<string>([file]);
    const stack = [file];
    while (stack.length > 0) {
      for (const child of this.#edges.get(stack.pop()!) ?? []) {
        if (seen.has(child)) continue;
        seen.add(child);
        stack.push(child);
      }
    }
    seen.delete(file);
    return [...seen].sort();
  }
}

/**
 * The edges the import hook reports, by load token. They are read synchronously from the port
 * (receiveMessageOnPort) once an import has finished: the hook posted each one while resolving,
 * before the import could finish. Edges of tokens no load waits for (a task's dynamic import long
 * after its load) are dropped.
 */
class DependencyGraphs {
  readonly #open = new Map<string, DependencyGraph>();
  #port: MessagePort | null = null;

  attach(port: MessagePort): void {
    this.#port = port;
  }

  open(token: string): DependencyGraph {
    const graph = new DependencyGraph();
    this.#open.set(token, graph);
    return graph;
  }

  close(token: string): void {
    this.drain();
    this.#open.delete(token);
  }

  drain(): void {
    if (this.#port === null) return;
    for (;;) {
      const received = receiveMessageOnPort(this.#port);
      if (received === undefined) return;
      const edge = received.message as { token: string; parent: string; child: string };
      this.#open.get(edge.token)?.add(edge.parent, edge.child);
    }
  }
}

const graphsKey = Symbol.for("hourglass.dagDependencyGraphs");
/** One per process, as the hook it listens to (a second copy of this module shares it). */
const graphsHolder = globalThis as { [graphsKey]?: DependencyGraphs };
graphsHolder[graphsKey] ??= new DependencyGraphs();
const dependencyGraphs: DependencyGraphs = graphsHolder[graphsKey];

/**
 * Registers the loader hooks once per process (module.register cannot be undone): ours first,
 * then tsx's, so tsx runs first and hands file specifiers on to ours.
 */
function dagImporter(): DagImporter {
  const holder = globalThis as { [importerKey]?: DagImporter };
  let importer = holder[importerKey];
  if (importer === undefined) {
    const { port1, port2 } = new MessageChannel();
    // Read only by draining (receiveMessageOnPort): it must not keep the process alive.
    port1.unref();
    dependencyGraphs.attach(port1);
    module.register(new URL("./dag-import-hook.mjs", import.meta.url), {
      data: {
        entryUrl: hourglassEntryUrl(),
        sourceDirUrl: new URL("../", import.meta.url).href,
        dependencyPort: port2,
      },
      transferList: [port2],
    });
    // tsx is imported here, the first time a DAG file loads, not with this module: a process that
    // never loads a DAG file (a CLI command, the server's main process) does not pay for it.
    // Registered after our hook all the same: every import waits for it.
    const tsx = import("tsx/esm/api").then(({ register }) => register({ namespace: "hourglass-dags" }));
    importer = { import: async (url, parentUrl) => (await tsx).import(url, parentUrl) };
    holder[importerKey] = importer;
  }
  return importer;
}

function importModule(file: string, token: string): Promise<Record<string, unknown>> {
  // The token on the parent URL tells the hook to load this file (and its local imports) afresh.
  const parent = new URL(import.meta.url);
  parent.search = "";
  parent.searchParams.set("hourglass-dag", token);
  return dagImporter().import(pathToFileURL(file).href, parent.href);
}

/** What "hourglass" means in a DAG file: the package entry (src/index.ts) once it exists, else this part's surface. */
function hourglassEntryUrl(): string {
  for (const candidate of ["../index.ts", "../index.js", "./index.ts", "./index.js"]) {
    const url = new URL(candidate, import.meta.url);
    url.search = "";
    if (existsSync(fileURLToPath(url))) return url.href;
  }
  throw new Error("cannot find Hourglass's entry point next to src/workflows/loader.ts");
}

/** The import error's message and, when the error carries one, the location inside `file`. */
function locate(error: unknown, file: string): Omit<ImportError, "file"> {
  const message = errorText(error);
  // esbuild (through tsx) reports syntax errors as "<path>:<line>:<column>: ERROR: <text>".
  const syntax = /^(.+?):(\d+):(\d+): ERROR: (.+)$/m.exec(message);
  if (syntax !== null) {
    const [, where = "", line, column, text] = syntax;
    if (path.resolve(where) === file)
      return { line: Number(line), column: Number(column), message: `syntax error: ${text}` };
    return { message: `syntax error in ${where}:${line}:${column}: ${text}` };
  }
  const stack = error instanceof Error ? (error.stack ?? "") : "";
  for (const frame of stack.split("\n")) {
    const match = /\(?((?:file:\/\/)?\/[^\s():]+(?:\?[^\s():]*)?):(\d+)(?::(\d+))?\)?\s*$/.exec(frame.trim());
    if (match === null) continue;
    const [, location = "", line, column] = match;
    if (framePath(location) !== file) continue;
    return { line: Number(line), ...(column === undefined ? {} : { column: Number(column) }), message };
  }
  return { message };
}

function framePath(location: string): string {
  const withoutQuery = location.replace(/\?.*$/, "");
  return withoutQuery.startsWith("file://") ? fileURLToPath(withoutQuery) : withoutQuery;
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const prefix = error.name === "Error" || error.name === "HourglassError" ? "" : `${error.name}: `;
  return `${prefix}${error.message}`;
}

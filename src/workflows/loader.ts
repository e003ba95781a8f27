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
 * Watching a folder for changes is in dag-watcher.ts.
 */
import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import module from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";
import { type Dag, isDag } from "./dag.js";
import { checkDir, listDagFiles } from "./dag-files.js";

export interface LoadedDag {
  readonly dag: Dag;
  /** Absolute path of the file that defines it. */
  readonly file: string;
  /** "default" or the name of the export. */
  readonly exportName: string;
  /** First 12 hex digits of the sha256 of the file's text: which code produced a run's output. */
  readonly codeVersion: string;
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

/** Imports every DAG file in `dir`; never throws for a broken DAG file (it becomes an import error). */
export interface LoadOptions {
  /** A file still importing after this long becomes an import error (Airflow's dagbag_import_timeout). */
  importTimeoutMs?: number;
}

export const defaultImportTimeoutMs = 30_000;

export async function loadDags(dir: string, options: LoadOptions = {}): Promise<DagBag> {
  const root = await checkDir(dir);
  const files = await listDagFiles(root);
  const token = randomUUID();
  const dags = new Map<string, LoadedDag>();
  const importErrors: ImportError[] = [];
  const warnings: LoadWarning[] = [];
  for (const file of files) {
    const loaded = await importDagFile(file, token, options);
    importErrors.push(...loaded.importErrors);
    warnings.push(...loaded.warnings);
    for (const found of loaded.dags) {
      const first = dags.get(found.dag.id);
      if (first !== undefined) {
        importErrors.push({
          file,
          message: `DAG id "${found.dag.id}" is already defined in ${first.file}; this definition is ignored`,
        });
        continue;
      }
      dags.set(found.dag.id, found);
    }
  }
  return { dir: root, dags, importErrors, warnings, files };
}

/** Imports one DAG file afresh. */
export function loadDagFile(file: string, options: LoadOptions = {}): Promise<FileLoad> {
  return importDagFile(path.resolve(file), randomUUID(), options);
}

// ---------------------------------------------------------------------------------------------

async function importDagFile(file: string, token: string, options: LoadOptions): Promise<FileLoad> {
  const importErrors: ImportError[] = [];
  const warnings: LoadWarning[] = [];
  const dags: LoadedDag[] = [];
  let text: Buffer;
  try {
    text = await readFile(file);
  } catch (error) {
    return { dags, importErrors: [{ file, message: `cannot read the file: ${errorText(error)}` }], warnings };
  }
  const codeVersion = codeVersionOf(text);
  let exports: Record<string, unknown>;
  try {
    exports = await withTimeout(importModule(file, token), options.importTimeoutMs ?? defaultImportTimeoutMs);
  } catch (error) {
    return { dags, importErrors: [{ file, ...locate(error, file) }], warnings };
  }
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
    dags.push({ dag: value, file, exportName, codeVersion });
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
      () => reject(new Error(`importing the file took longer than ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface DagImporter {
  import(url: string, parentUrl: string): Promise<Record<string, unknown>>;
}

const importerKey = Symbol.for("hourglass.dagImporter");

/**
 * Registers the loader hooks once per process (module.register cannot be undone): ours first,
 * then tsx's, so tsx runs first and hands file specifiers on to ours.
 */
function dagImporter(): DagImporter {
  const holder = globalThis as { [importerKey]?: DagImporter };
  let importer = holder[importerKey];
  if (importer === undefined) {
    module.register(new URL("./dag-import-hook.mjs", import.meta.url), {
      data: { entryUrl: hourglassEntryUrl(), sourceDirUrl: new URL("../", import.meta.url).href },
    });
    const tsx = register({ namespace: "hourglass-dags" });
    importer = { import: (url, parentUrl) => tsx.import(url, parentUrl) };
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

/**
 * Configuration, resolved once at start into one frozen object: flags, then environment, then the
 * config file (`hourglass.yaml` in the state folder's parent or given by --config), then defaults.
 * Nothing else in Hourglass reads process.env.
 */
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { z } from "zod";
import { validationError } from "./errors.js";

export const configSchema = z.object({
  /** Where everything lives: store.duckdb, metadata.db, streams/, lake/, logs/. */
  stateDir: z.string().min(1),
  /** HTTP port of `hourglass up` (REST, AWS-compatible endpoints, UI). 0 picks a free port. */
  port: z.number().int().min(0).max(65535),
  host: z.string().min(1),
  /** Metadata DB: `sqlite:<path>` (default, in the state folder) or a `postgres://` URL. */
  metadataUrl: z.string().min(1),
  /** Folder of DAG files. */
  dagsDir: z.string().min(1),
  /** Root folder of the local lake (buckets are sub-folders). */
  lakeDir: z.string().min(1),
  /** Worker processes executing task instances. */
  workers: z.number().int().min(1).max(64),
  /** A DAG file still importing after this long is stopped: an import error (Airflow's dagbag_import_timeout). */
  dagImportTimeoutMs: z.number().int().min(1),
  /** Heap limit (MB) of the process that parses DAG files. */
  dagParseMemoryMb: z.number().int().min(16),
  logLevel: z.enum(["trace", "debug", "info", "warn", "error", "silent"]),
});

export type HourglassConfig = Readonly<z.infer<typeof configSchema>>;

export interface ConfigSources {
  flags?: Partial<Record<keyof HourglassConfig, unknown>> & { config?: string };
  env?: Record<string, string | undefined>;
  cwd?: string;
}

const ENV_NAMES: Record<keyof HourglassConfig, string> = {
  stateDir: "HOURGLASS_STATE_DIR",
  port: "HOURGLASS_PORT",
  host: "HOURGLASS_HOST",
  metadataUrl: "HOURGLASS_METADATA_URL",
  dagsDir: "HOURGLASS_DAGS_DIR",
  lakeDir: "HOURGLASS_LAKE_DIR",
  workers: "HOURGLASS_WORKERS",
  dagImportTimeoutMs: "HOURGLASS_DAG_IMPORT_TIMEOUT_MS",
  dagParseMemoryMb: "HOURGLASS_DAG_PARSE_MEMORY_MB",
  logLevel: "HOURGLASS_LOG_LEVEL",
};

const NUMERIC = new Set<keyof HourglassConfig>(["port", "workers", "dagImportTimeoutMs", "dagParseMemoryMb"]);

export function resolveConfig(sources: ConfigSources = {}): HourglassConfig {
  const cwd = sources.cwd ?? process.cwd();
  const env = sources.env ?? process.env;
  const flags = sources.flags ?? {};
  const fileValues = readConfigFile(flags.config ?? env["HOURGLASS_CONFIG"], cwd);

  const pick = (key: keyof HourglassConfig): unknown => {
    const fromFlag = flags[key];
    if (fromFlag !== undefined) return fromFlag;
    const fromEnv = env[ENV_NAMES[key]];
    if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
    return fileValues[key];
  };
  const stateDir = path.resolve(cwd, String(pick("stateDir") ?? ".hourglass"));
  const raw: Record<string, unknown> = {
    stateDir,
    port: pick("port") ?? 8080,
    host: pick("host") ?? "127.0.0.1",
    metadataUrl: pick("metadataUrl") ?? `sqlite:${path.join(stateDir, "metadata.db")}`,
    dagsDir: path.resolve(cwd, String(pick("dagsDir") ?? "dags")),
    lakeDir: path.resolve(cwd, String(pick("lakeDir") ?? path.join(stateDir, "lake"))),
    workers: pick("workers") ?? 2,
    dagImportTimeoutMs: pick("dagImportTimeoutMs") ?? 30_000,
    dagParseMemoryMb: pick("dagParseMemoryMb") ?? 1024,
    logLevel: pick("logLevel") ?? "info",
  };
  for (const key of NUMERIC) {
    if (typeof raw[key] === "string") raw[key] = Number(raw[key]);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw validationError(`invalid configuration: ${problems}`);
  }
  return Object.freeze(parsed.data);
}

function readConfigFile(
  explicit: string | undefined,
  cwd: string,
): Partial<Record<keyof HourglassConfig, unknown>> {
  const file = explicit ? path.resolve(cwd, explicit) : path.join(cwd, "hourglass.yaml");
  if (!fs.existsSync(file)) {
    if (explicit) throw validationError(`config file ${file} does not exist`);
    return {};
  }
  try {
    const parsed = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
    if (typeof parsed !== "object") throw new Error("the file must hold a mapping of settings");
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw validationError(`config file ${file} could not be read: ${(error as Error).message}`);
  }
}

/**
 * Configuration, resolved once at start into one frozen object: flags, then environment, then the
 * config file, then defaults. The config file is the first of: --config, HOURGLASS_CONFIG,
 * `./hourglass.yaml` (the current folder), `<stateDir>/hourglass.yaml` (the state folder as flags,
 * environment or the default name it); relative paths in it are relative to the file's folder.
 * Nothing else in Hourglass reads process.env.
 */
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { z } from "zod";
import { validationError } from "./errors.js";
import {
  DEFAULT_QUERY_LIMITS,
  MAX_QUERY_TIMEOUT_MS,
  SIZE_PATTERN,
  THREADS_LEFT_FOR_WRITES,
} from "./store/query-limits.js";

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
  /** Host names the HTTP server answers to beyond this machine's own (DNS-rebinding guard). */
  allowedHosts: z.array(z.string().min(1)),
  /**
   * Check AWS Signature V4 on the AWS endpoints and S3 against `<stateDir>/keys.json` (default
   * true). False (`hourglass up --no-auth`, HOURGLASS_AUTH=false): any credentials are accepted.
   */
  auth: z.boolean(),
  /** Origins of web pages allowed to make changes through the API (cross-site guard). */
  allowedOrigins: z.array(z.string().regex(/^https?:\/\/[^/]+$/, "an origin such as http://host:8080")),
  /** Query limits (docs/limits.md): the longest a query may execute, in seconds. */
  queryTimeoutSeconds: z
    .number()
    .positive()
    .max(MAX_QUERY_TIMEOUT_MS / 1000),
  /** DuckDB's memory limit for the whole store: "4GB", "512MB" or a share of RAM such as "50%". */
  queryMemoryLimit: z.string().regex(SIZE_PATTERN, "use a size such as 4GB, 512MB or 50%"),
  /** How much the store may spill to disk (its temp folder in the state folder). */
  queryTempLimit: z.string().regex(SIZE_PATTERN, "use a size such as 10GB or 512MB"),
  /** Queries executing at once; the others wait. */
  queryMaxConcurrent: z.number().int().min(1).max(256),
  /** The most entries one sequence() may produce. */
  querySequenceMaxEntries: z.number().int().min(1),
  /** The account in the ARNs of Hourglass's resources, as policies name them (docs/access.md). */
  accountId: z
    .string()
    .regex(/^\d{12}$/, "12 digits, as an AWS account id (quote it in YAML: '000000000000')"),
  /** The region in the ARNs of Hourglass's Timestream and Kinesis resources. */
  region: z.string().regex(/^[a-z0-9-]+$/, "a region name such as us-east-1"),
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
  allowedHosts: "HOURGLASS_ALLOWED_HOSTS",
  allowedOrigins: "HOURGLASS_ALLOWED_ORIGINS",
  auth: "HOURGLASS_AUTH",
  queryTimeoutSeconds: "HOURGLASS_QUERY_TIMEOUT_SECONDS",
  queryMemoryLimit: "HOURGLASS_QUERY_MEMORY_LIMIT",
  queryTempLimit: "HOURGLASS_QUERY_TEMP_LIMIT",
  queryMaxConcurrent: "HOURGLASS_QUERY_MAX_CONCURRENT",
  querySequenceMaxEntries: "HOURGLASS_QUERY_SEQUENCE_MAX_ENTRIES",
  accountId: "HOURGLASS_ACCOUNT_ID",
  region: "HOURGLASS_REGION",
};

const NUMERIC = new Set<keyof HourglassConfig>([
  "port",
  "workers",
  "queryTimeoutSeconds",
  "queryMaxConcurrent",
  "querySequenceMaxEntries",
  "dagImportTimeoutMs",
  "dagParseMemoryMb",
]);
/** Lists: comma-separated in the environment and in flags, YAML sequences in the file. */
const LISTS = new Set<keyof HourglassConfig>(["allowedHosts", "allowedOrigins"]);

export function resolveConfig(sources: ConfigSources = {}): HourglassConfig {
  const cwd = sources.cwd ?? process.cwd();
  const env = sources.env ?? process.env;
  const flags = sources.flags ?? {};
  const fromFlagOrEnv = (key: keyof HourglassConfig): unknown => {
    const fromFlag = flags[key];
    if (fromFlag !== undefined) return fromFlag;
    const fromEnv = env[ENV_NAMES[key]];
    if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
    return undefined;
  };
  const configFile = findConfigFile(flags.config ?? env["HOURGLASS_CONFIG"], cwd, fromFlagOrEnv("stateDir"));
  const fileValues = configFile ? readConfigFile(configFile.file) : {};
  if (configFile?.inStateDir && fileValues.stateDir !== undefined) {
    throw validationError(
      `config file ${configFile.file} sets stateDir, but it was found in the state folder it would move: remove the setting, or give the file with --config`,
    );
  }
  // Paths from the file are relative to its folder: the same whichever folder hourglass runs in.
  const fileDir = configFile ? path.dirname(configFile.file) : cwd;
  const PATHS = new Set<keyof HourglassConfig>(["stateDir", "dagsDir", "lakeDir"]);
  const pick = (key: keyof HourglassConfig): unknown => {
    const given = fromFlagOrEnv(key);
    if (given !== undefined) return given;
    const fromFile = fileValues[key];
    if (PATHS.has(key) && typeof fromFile === "string") return path.resolve(fileDir, fromFile);
    return fromFile;
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
    allowedHosts: pick("allowedHosts") ?? [],
    allowedOrigins: pick("allowedOrigins") ?? [],
    auth: pick("auth") ?? true,
    queryTimeoutSeconds: pick("queryTimeoutSeconds") ?? DEFAULT_QUERY_LIMITS.timeoutMs / 1000,
    queryMemoryLimit: pick("queryMemoryLimit") ?? DEFAULT_QUERY_LIMITS.memoryLimit,
    queryTempLimit: pick("queryTempLimit") ?? DEFAULT_QUERY_LIMITS.tempLimit,
    queryMaxConcurrent: pick("queryMaxConcurrent") ?? DEFAULT_QUERY_LIMITS.maxConcurrent,
    querySequenceMaxEntries: pick("querySequenceMaxEntries") ?? DEFAULT_QUERY_LIMITS.sequenceMaxEntries,
    // The defaults are access/'s DEFAULT_ARN_SCOPE (config may not import a part).
    accountId: String(pick("accountId") ?? "000000000000"),
    region: pick("region") ?? "us-east-1",
  };
  for (const key of NUMERIC) {
    if (typeof raw[key] === "string") raw[key] = Number(raw[key]);
  }
  // true/false, yes/no, on/off, 1/0 in the environment; anything else is left for the schema to refuse.
  if (typeof raw["auth"] === "string") {
    const text = (raw["auth"] as string).trim().toLowerCase();
    if (["true", "yes", "on", "1"].includes(text)) raw["auth"] = true;
    else if (["false", "no", "off", "0"].includes(text)) raw["auth"] = false;
  }
  for (const key of LISTS) {
    if (typeof raw[key] === "string") {
      raw[key] = (raw[key] as string)
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== "");
    }
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw validationError(`invalid configuration: ${problems}`);
  }
  // Each executing query holds a thread of libuv's pool; writes and file I/O need some left.
  const threadPool = Number(env["UV_THREADPOOL_SIZE"] ?? 4) || 4;
  if (parsed.data.queryMaxConcurrent > Math.max(1, threadPool - THREADS_LEFT_FOR_WRITES)) {
    throw validationError(
      `invalid configuration: queryMaxConcurrent is ${parsed.data.queryMaxConcurrent}, but with UV_THREADPOOL_SIZE = ${threadPool} at most ${Math.max(1, threadPool - THREADS_LEFT_FOR_WRITES)} queries may execute at once (each holds one of those threads, and writes and file I/O need ${THREADS_LEFT_FOR_WRITES}): lower it, or raise UV_THREADPOOL_SIZE in the environment of hourglass too`,
    );
  }
  return Object.freeze(parsed.data);
}

/** The store's query limits from a configuration (TimestreamStore.open's `limits`). */
export function queryLimitsOf(config: HourglassConfig) {
  return {
    timeoutMs: config.queryTimeoutSeconds * 1000,
    memoryLimit: config.queryMemoryLimit,
    tempLimit: config.queryTempLimit,
    maxConcurrent: config.queryMaxConcurrent,
    sequenceMaxEntries: config.querySequenceMaxEntries,
  };
}

export const CONFIG_FILE_NAME = "hourglass.yaml";

/** The config file to read (see the top of this file), or null when there is none. */
function findConfigFile(
  explicit: string | undefined,
  cwd: string,
  stateDirGiven: unknown,
): { file: string; inStateDir: boolean } | null {
  if (explicit) {
    const file = path.resolve(cwd, explicit);
    if (!fs.existsSync(file)) {
      throw validationError(
        `config file ${file} does not exist (given by --config or HOURGLASS_CONFIG): check the path`,
      );
    }
    return { file, inStateDir: false };
  }
  const here = path.join(cwd, CONFIG_FILE_NAME);
  if (fs.existsSync(here)) return { file: here, inStateDir: false };
  const inState = path.join(path.resolve(cwd, String(stateDirGiven ?? ".hourglass")), CONFIG_FILE_NAME);
  if (fs.existsSync(inState)) return { file: inState, inStateDir: true };
  return null;
}

function readConfigFile(file: string): Partial<Record<keyof HourglassConfig, unknown>> {
  try {
    const parsed = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
    if (typeof parsed !== "object") throw new Error("the file must hold a mapping of settings");
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw validationError(`config file ${file} could not be read: ${(error as Error).message}`);
  }
}

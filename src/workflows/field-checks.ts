/**
 * Small checks shared by the DAG and task definitions. Each returns a problem text (or null), so a
 * definition can report every problem at once instead of the first one only.
 */

/** Airflow's rule for DAG and task ids (KEY_REGEX and its 250-character limit), in ASCII. */
export const idPattern = /^[A-Za-z0-9_.-]{1,250}$/;

export function checkId(what: string, value: unknown): string | null {
  if (typeof value !== "string") return `${what} must be a string, got ${describeValue(value)}`;
  if (!idPattern.test(value)) {
    return `${what} ${JSON.stringify(value)} must be 1-250 characters of letters, digits, "_", "." or "-"`;
  }
  // Airflow's pattern lets these through, but as a URL path segment they mean "this folder" and
  // "the parent folder": the REST API and the CLI could never name them.
  if (value === "." || value === "..") {
    return `${what} ${JSON.stringify(value)} is not allowed: "." and ".." name a folder in a URL path, so the REST API and the CLI could not reach it; use letters or digits too`;
  }
  return null;
}

export function checkInteger(what: string, value: unknown, min: number): string | null {
  if (value === undefined) return null;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    return `${what} must be an integer >= ${min}, got ${describeValue(value)}`;
  }
  return null;
}

export function checkBoolean(what: string, value: unknown): string | null {
  if (value === undefined || typeof value === "boolean") return null;
  return `${what} must be true or false, got ${describeValue(value)}`;
}

/** Unknown keys, each with a hint when it looks like an Airflow (snake_case) name of a known one. */
export function checkKnownKeys(what: string, value: object, known: readonly string[]): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const hint = suggestKey(key, known);
    problems.push(`${what}: unknown field "${key}"${hint === null ? "" : ` (did you mean "${hint}"?)`}`);
  }
  return problems;
}

export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "an invalid Date" : value.toISOString();
  if (typeof value === "function") return "a function";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}

const renamed: Readonly<Record<string, string>> = {
  dag_id: "id",
  task_id: "id",
  schedule_interval: "schedule",
  upstream_task_ids: "upstream",
  dagrun_timeout: "dagrunTimeoutMs",
  retry_delay: "retryDelayMs",
  max_retry_delay: "maxRetryDelayMs",
  execution_timeout: "executionTimeoutMs",
  python_callable: "run",
};

function suggestKey(key: string, known: readonly string[]): string | null {
  const direct = renamed[key];
  if (direct !== undefined && known.includes(direct)) return direct;
  const camel = key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
  if (known.includes(camel)) return camel;
  if (known.includes(`${camel}Ms`)) return `${camel}Ms`;
  const lower = key.toLowerCase();
  return known.find((k) => k.toLowerCase() === lower) ?? null;
}

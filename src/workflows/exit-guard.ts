/**
 * Processes that import DAG files (the DAG processor's parse process, the workers) must outlive a
 * DAG file or task that calls `process.exit()`: there it throws instead, so the file becomes an
 * import error (or the task fails) with the reason, and the process carries on.
 */

/** Makes `process.exit` throw; returns the real one, for the process's own way out. */
export function guardProcessExit(): (code?: number) => never {
  const realExit = process.exit.bind(process) as (code?: number) => never;
  process.exit = ((code?: number | string | null) => {
    throw new Error(
      `called process.exit(${code === undefined || code === null ? "" : String(code)}): code in a DAG file must not end the process that loads it (throw an error instead)`,
    );
  }) as typeof process.exit;
  return realExit;
}

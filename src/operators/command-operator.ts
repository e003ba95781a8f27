/**
 * The command operator (Airflow's BashOperator): runs a templated shell command. Its output lines
 * go to the task log; exit code 0 is success, anything else fails the task with the exit code in
 * the message. A timeout, or the task's abort signal, stops the command's whole process group.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { HourglassError, validationError } from "../errors.js";
import { isoUtc, renderTemplate, type TaskContext } from "../workflows/index.js";
import { abortError } from "./abort.js";
import { runShell } from "./child-process.js";
import { parseWith } from "./parse-with.js";
import { renderShellCommand } from "./shell-template.js";

/** How long a stopped command gets between SIGTERM and SIGKILL, by default. */
export const defaultKillGraceMs = 5_000;

export interface CommandOptions {
  /** Run by `/bin/sh -c`; a template whose values are shell-quoted (see shell-template.ts). */
  command: string;
  /** Added to the worker's environment; values are templates (not quoted: they are not parsed by the shell). */
  env?: Record<string, string>;
  /** Working folder (a template); default: the worker's. */
  cwd?: string;
  /** Stop the command after this long and fail the task. */
  timeoutMs?: number;
  /** Between SIGTERM and SIGKILL when the command is stopped; default 5 s. */
  killGraceMs?: number;
}

export interface CommandDescriptor {
  kind: "command";
  command: string;
  env: Record<string, string>;
  cwd: string | null;
  timeoutMs: number | null;
  killGraceMs: number;
  [field: string]: unknown;
}

export interface CommandResult {
  exitCode: 0;
  /** The last line the command wrote to stdout (Airflow keeps it as the task's result), or null. */
  lastLine: string | null;
}

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

const fields = {
  command: z.string().refine((text) => text.trim() !== "", "the command is empty"),
  env: z.record(z.string(), z.string()).superRefine((env, check) => {
    for (const name of Object.keys(env)) {
      if (!envName.test(name)) {
        check.addIssue({
          code: "custom",
          path: [name],
          message: "an environment variable name must match [A-Za-z_][A-Za-z0-9_]*",
        });
      }
    }
  }),
  cwd: z.string().min(1),
  timeoutMs: z.number().int().min(1),
  killGraceMs: z.number().int().min(0),
};

const optionsSchema = z.strictObject({
  command: fields.command,
  env: fields.env.optional(),
  cwd: fields.cwd.optional(),
  timeoutMs: fields.timeoutMs.optional(),
  killGraceMs: fields.killGraceMs.optional(),
});

const descriptorSchema = z.strictObject({
  kind: z.literal("command"),
  command: fields.command,
  env: fields.env,
  cwd: fields.cwd.nullable(),
  timeoutMs: fields.timeoutMs.nullable(),
  killGraceMs: fields.killGraceMs,
});

/** Describes a command task; throws a ValidationError (at DAG load time) for a bad option. */
export function command(options: CommandOptions): CommandDescriptor {
  const o = parseWith(optionsSchema, options, "command operator");
  return Object.freeze({
    kind: "command",
    command: o.command,
    env: Object.freeze({ ...(o.env ?? {}) }),
    cwd: o.cwd ?? null,
    timeoutMs: o.timeoutMs ?? null,
    killGraceMs: o.killGraceMs ?? defaultKillGraceMs,
  });
}

export async function runCommand(descriptor: unknown, ctx: TaskContext): Promise<CommandResult> {
  const d = parseWith(descriptorSchema, descriptor, "command operator");
  const commandLine = renderShellCommand(d.command, ctx);
  const cwd = d.cwd === null ? undefined : await checkCwd(renderTemplate(d.cwd, ctx));
  const env: NodeJS.ProcessEnv = { ...process.env, ...contextEnv(ctx) };
  for (const [name, value] of Object.entries(d.env)) env[name] = renderTemplate(value, ctx);

  if (ctx.signal.aborted) throw abortError(ctx.signal, "the command");
  ctx.log(`Running command: ${commandLine}`);
  let lastLine: string | null = null;
  const run = runShell(commandLine, {
    cwd,
    env,
    onLine(stream, line) {
      if (stream === "stdout") lastLine = line;
      ctx.log(stream === "stdout" ? line : `[stderr] ${line}`);
    },
  });
  // Set from callbacks (timer, abort), hence a holder rather than a let that narrowing would misread.
  const stopped: { by: HourglassError | null } = { by: null };
  const stop = (error: HourglassError) => {
    if (stopped.by !== null) return;
    stopped.by = error;
    ctx.log(`Stopping the command: ${error.message}`);
    run.stop(d.killGraceMs);
  };
  const onAbort = () => stop(abortError(ctx.signal, "the command"));
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  const timer =
    d.timeoutMs === null
      ? undefined
      : setTimeout(
          () =>
            stop(
              new HourglassError("Timeout", `the command ran longer than its timeout of ${d.timeoutMs} ms`, {
                context: { timeoutMs: d.timeoutMs },
              }),
            ),
          d.timeoutMs,
        );
  let outcome: Awaited<typeof run.done>;
  try {
    outcome = await run.done;
  } catch (error) {
    throw new HourglassError("Internal", `the command could not be started: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    ctx.signal.removeEventListener("abort", onAbort);
  }
  if (stopped.by !== null) throw stopped.by;
  if (outcome.exitCode === 0) {
    ctx.log("Command exited with code 0");
    return { exitCode: 0, lastLine };
  }
  const how =
    outcome.exitCode === null
      ? `was killed by signal ${outcome.signal}`
      : `failed with exit code ${outcome.exitCode}`;
  throw new HourglassError("Internal", `the command ${how}: ${commandLine}`, {
    context: { exitCode: outcome.exitCode, signal: outcome.signal },
  });
}

/** Which run the command works for, as Airflow's AIRFLOW_CTX_* variables tell a BashOperator's script. */
function contextEnv(ctx: TaskContext): Record<string, string> {
  return {
    HOURGLASS_DAG_ID: ctx.dagId,
    HOURGLASS_TASK_ID: ctx.taskId,
    HOURGLASS_RUN_ID: ctx.runId,
    HOURGLASS_TRY_NUMBER: String(ctx.tryNumber),
    HOURGLASS_DATA_INTERVAL_START: isoUtc(ctx.dataIntervalStart),
    HOURGLASS_DATA_INTERVAL_END: isoUtc(ctx.dataIntervalEnd),
  };
}

async function checkCwd(cwd: string): Promise<string> {
  const resolved = path.resolve(cwd);
  const stat = await fs.stat(resolved).catch(() => null);
  if (stat === null || !stat.isDirectory()) {
    throw validationError(`the command's cwd ${resolved} does not exist or is not a folder`, {
      cwd: resolved,
    });
  }
  return resolved;
}

/**
 * Runs `sh -c <command>` in a process group of its own, hands each line of its output to a
 * callback, and can stop the whole group (the shell and whatever it started): SIGTERM first,
 * SIGKILL after a grace period for processes that ignore or trap SIGTERM.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

export interface ShellRun {
  /** Settles when the process has exited and its output is read to the end. */
  readonly done: Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>;
  /** Stops the process group; idempotent. */
  stop(graceMs: number): void;
}

export interface ShellOptions {
  cwd: string | undefined;
  env: NodeJS.ProcessEnv;
  onLine(stream: "stdout" | "stderr", line: string): void;
}

export function runShell(command: string, options: ShellOptions): ShellRun {
  const child = spawn("/bin/sh", ["-c", command], {
    cwd: options.cwd,
    env: options.env,
    detached: true, // its own process group, so that a stop reaches the commands it started
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of ["stdout", "stderr"] as const) {
    const lines = createInterface({ input: child[stream], crlfDelay: Number.POSITIVE_INFINITY });
    lines.on("line", (line) => options.onLine(stream, line));
  }
  let killTimer: NodeJS.Timeout | undefined;
  const signalGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  };
  const done = new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (exitCode, signal) => {
      if (killTimer !== undefined) clearTimeout(killTimer);
      resolve({ exitCode, signal });
    });
  });
  let stopping = false;
  return {
    done,
    stop(graceMs) {
      if (stopping) return;
      stopping = true;
      signalGroup("SIGTERM");
      killTimer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
      killTimer.unref();
    },
  };
}

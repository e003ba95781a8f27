/**
 * A real `hourglass up` for the AWS-client benchmarks: the CLI started as a child process on
 * loopback (its own process and event loop, as users run it), over a state folder the script
 * chooses, with an access key when the server has them.
 *
 * Signatures: when `hourglass keys create` exists, a key is created in the state folder before
 * the start and the clients sign with it; when `up` has `--no-auth` and no key could be read, the
 * server starts with it; otherwise the endpoints take any credentials, and any are used.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BIN = path.join(root, "bin", "hourglass.js");

export interface BenchCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface ServerChild {
  url: string;
  pid: number;
  credentials: BenchCredentials;
  /** How the credentials were chosen, for the printed report. */
  auth: string;
  stop(): Promise<void>;
}

/** Any credentials: what the endpoints take while they do not check signatures. */
const anyCredentials: BenchCredentials = { accessKeyId: "AKIDBENCH", secretAccessKey: "bench-secret" };

function cli(stateDir: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [BIN, "--state-dir", stateDir, ...args], {
    encoding: "utf8",
    cwd: stateDir,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/**
 * Reads an access key from what `keys create` (or `up`) printed: `AWS_ACCESS_KEY_ID=…` and
 * `AWS_SECRET_ACCESS_KEY=…` lines, or a JSON object with accessKeyId / secretAccessKey (any case).
 */
export function credentialsIn(output: string): BenchCredentials | null {
  const env = (name: string) => new RegExp(`${name}\\s*[=:]\\s*["']?([^\\s"']+)`).exec(output)?.[1];
  const id = env("AWS_ACCESS_KEY_ID");
  const secret = env("AWS_SECRET_ACCESS_KEY");
  if (id && secret) return { accessKeyId: id, secretAccessKey: secret };
  const json = /\{[\s\S]*\}/.exec(output)?.[0];
  if (json) {
    try {
      const parsed = JSON.parse(json) as Record<string, unknown>;
      const pick = (...names: string[]) => {
        for (const [k, v] of Object.entries(parsed))
          if (names.includes(k.toLowerCase()) && typeof v === "string") return v;
        return undefined;
      };
      const jsonId = pick("accesskeyid", "access_key_id");
      const jsonSecret = pick("secretaccesskey", "secret_access_key");
      if (jsonId && jsonSecret) return { accessKeyId: jsonId, secretAccessKey: jsonSecret };
    } catch {
      // not JSON after all
    }
  }
  return null;
}

/** Starts `hourglass up --port 0 --workers 1` (the fewest it takes) over `stateDir`; waits for its address. */
export async function startServerChild(
  stateDir: string,
  options: { nodeArgs?: string[]; timeoutMs?: number } = {},
): Promise<ServerChild> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  fs.mkdirSync(path.join(stateDir, "dags"), { recursive: true });
  let credentials: BenchCredentials | null = null;
  let auth = "any credentials (the server has no `keys create`)";
  // The top-level help lists the commands (an unknown command's --help prints it too, exit 0).
  if (/^\s+keys\b/m.test(cli(stateDir, ["--help"]).output)) {
    const created = cli(stateDir, ["keys", "create"]);
    credentials = created.status === 0 ? credentialsIn(created.output) : null;
    if (credentials) auth = `a key from \`hourglass keys create\` (${credentials.accessKeyId})`;
    else
      process.stderr.write(
        `aws-server: \`hourglass keys create\` printed no key this script can read:\n${created.output}\n`,
      );
  }
  const upHelp = cli(stateDir, ["up", "--help"]).output;
  const noAuth = credentials === null && upHelp.includes("--no-auth");
  if (noAuth) auth = "`up --no-auth` (no key could be read)";

  const args = [
    ...(options.nodeArgs ?? []),
    BIN,
    "--state-dir",
    stateDir,
    "up",
    "--port",
    "0",
    "--workers",
    "1",
  ];
  args.push("--dags", path.join(stateDir, "dags"));
  if (noAuth) args.push("--no-auth");
  const child = spawn(process.execPath, args, { cwd: stateDir, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      reject(new Error(`hourglass up printed no address in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /hourglass is up: API (http\S+)/.exec(output);
      // "press Ctrl+C" ends the start's lines, the first start's key among them.
      if (match && output.includes("press Ctrl+C")) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`hourglass up exited (${code}) before it was up:\n${output}`));
    });
  });
  // A first start may create a key and print how to use it.
  if (credentials === null) {
    credentials = credentialsIn(output);
    if (credentials) auth = `the key \`hourglass up\` printed (${credentials.accessKeyId})`;
  }
  return {
    url,
    pid: child.pid!,
    credentials: credentials ?? anyCredentials,
    auth,
    stop: () => stopChild(child, exited),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  await exited;
  clearTimeout(timer);
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function processCpuSeconds(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * Node flags for the server from `--server-cpu-prof <dir>` on the benchmark's command line: a CPU
 * profile of the server written there when it stops (open it in Chrome's DevTools).
 */
export function serverNodeArgs(): string[] {
  const index = process.argv.indexOf("--server-cpu-prof");
  if (index < 0) return [];
  return ["--cpu-prof", `--cpu-prof-dir=${path.resolve(process.argv[index + 1] ?? "cpu-profiles")}`];
}

/** The 1-, 5- and 15-minute load averages, as /proc/loadavg gives them. */
export function loadAverage(): string {
  try {
    return fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
}

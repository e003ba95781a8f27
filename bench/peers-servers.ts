/**
 * The peers of bench/peers.ts, each started by the script as a child process on free loopback
 * ports over a temporary data folder (never the system service), and a small HTTP client for each:
 *
 * - ClickHouse (Debian's `clickhouse-server`, 18.16): the packaged config.xml with its paths, ports
 *   and logs overridden on the command line (`-- --key=value`, ClickHouse's config overrides);
 * - InfluxDB (Debian's `influxdb`, 1.6.7): `influxd run` with a config file written here.
 *
 * A peer that is not installed (and cannot be installed with apt-get) is reported as missing, with
 * the reason, so that the benchmark can skip it with a clear line.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";

export interface PeerServer {
  name: string;
  version: string;
  url: string;
  stop(): Promise<void>;
}

/** Every child started here, so that an exit of any kind (an error included) stops them. */
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
});
// A signal would end this process without "exit" handlers: stop the peers first.
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => {
    process.stderr.write(`peers: ${signal}, stopping the peers\n`);
    process.exit(130);
  });

/** A port the kernel says is free now (the peer binds it a moment later). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Finds `binary`, installing `pkg` with apt-get when it is missing (the benchmark runs as root on
 * Debian). Returns the path, or why it is not there.
 */
export function ensureInstalled(binary: string, pkg: string): { path: string } | { missing: string } {
  const find = () =>
    [`/usr/bin/${binary}`, `/usr/sbin/${binary}`, `/usr/local/bin/${binary}`].find((p) => fs.existsSync(p));
  const found = find();
  if (found) return { path: found };
  process.stderr.write(`peers: ${binary} is missing; trying \`apt-get install -y ${pkg}\`\n`);
  const install = spawnSync("apt-get", ["install", "-y", "--no-install-recommends", pkg], {
    encoding: "utf8",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  const after = find();
  if (after) return { path: after };
  const why = install.error
    ? install.error.message
    : `${install.stderr ?? ""}`.trim().split("\n").slice(-2).join(" ");
  return {
    missing: `\`apt-get install -y ${pkg}\` did not give ${binary} (${why || `exit ${install.status}`})`,
  };
}

/** Polls `ready` until it is true, the child exits, or the timeout passes. */
async function waitUntil(
  child: ChildProcess,
  what: string,
  ready: () => Promise<boolean>,
  output: () => string,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `${what} exited (${child.exitCode ?? child.signalCode}) before it answered:\n${output()}`,
      );
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 500);
  }
  child.kill("SIGKILL");
  throw new Error(`${what} did not answer within ${timeoutMs} ms:\n${output()}`);
}

function startChild(
  command: string,
  args: string[],
  logFile: string,
): { child: ChildProcess; output: () => string } {
  const log = fs.openSync(logFile, "a");
  const child = spawn(command, args, { stdio: ["ignore", log, log] });
  fs.closeSync(log);
  children.add(child);
  child.once("exit", () => children.delete(child));
  const output = () => {
    try {
      return fs.readFileSync(logFile, "utf8").split("\n").slice(-20).join("\n");
    } catch {
      return "";
    }
  };
  return { child, output };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  await exited;
  clearTimeout(timer);
}

/** Starts clickhouse-server over `dir` on free loopback ports, in UTC. */
export async function startClickHouse(binary: string, dir: string): Promise<PeerServer> {
  const [http, tcp, interserver] = [await freePort(), await freePort(), await freePort()];
  const folder = (name: string) => `${path.join(dir, name)}/`;
  const args = [
    "--config-file=/etc/clickhouse-server/config.xml",
    "--",
    `--path=${folder("data")}`,
    `--tmp_path=${folder("tmp")}`,
    `--user_files_path=${folder("user_files")}`,
    `--format_schema_path=${folder("format_schemas")}`,
    `--http_port=${http}`,
    `--tcp_port=${tcp}`,
    `--interserver_http_port=${interserver}`,
    `--logger.log=${path.join(dir, "clickhouse.log")}`,
    `--logger.errorlog=${path.join(dir, "clickhouse.err.log")}`,
    "--logger.level=warning",
    "--timezone=UTC",
  ];
  const { child, output } = startChild(binary, args, path.join(dir, "clickhouse.out"));
  const url = `http://127.0.0.1:${http}/`;
  await waitUntil(child, "clickhouse-server", async () => (await fetch(`${url}ping`)).ok, output);
  const version = (await clickHouse(url, "SELECT version()")).trim();
  return { name: "ClickHouse", version, url, stop: () => stopChild(child) };
}

/**
 * Runs one statement over ClickHouse's HTTP interface (the statement in the body, or in the URL
 * with the data in the body), returning the text. A new connection each time: ClickHouse closes an
 * idle keep-alive connection after 3 s, and a body built in the meantime would be written into a
 * socket it had just closed (EPIPE).
 */
export async function clickHouse(url: string, sql: string, body?: string): Promise<string> {
  const target = body === undefined ? url : `${url}?query=${encodeURIComponent(sql)}`;
  const { status, text } = await postOnce(target, body ?? sql);
  if (status !== 200) throw new Error(`ClickHouse answered ${status} to ${sql.slice(0, 120)}: ${text}`);
  return text;
}

function postOnce(target: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(target, { method: "POST", agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
      );
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(body);
  });
}

/** Starts influxd over `dir` on free loopback ports, reporting and self-monitoring off. */
export async function startInflux(binary: string, dir: string): Promise<PeerServer> {
  const [http, rpc] = [await freePort(), await freePort()];
  const config = path.join(dir, "influxdb.conf");
  fs.writeFileSync(
    config,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpc}"
[meta]
  dir = "${path.join(dir, "meta")}"
[data]
  dir = "${path.join(dir, "data")}"
  wal-dir = "${path.join(dir, "wal")}"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:${http}"
  log-enabled = false
  max-row-limit = 0
  max-body-size = 0
[monitor]
  store-enabled = false
[logging]
  level = "warn"
`,
  );
  const { child, output } = startChild(binary, ["run", "-config", config], path.join(dir, "influxd.out"));
  const url = `http://127.0.0.1:${http}`;
  await waitUntil(child, "influxd", async () => (await fetch(`${url}/ping`)).status === 204, output);
  const ping = await fetch(`${url}/ping`);
  const version = ping.headers.get("x-influxdb-version") ?? "?";
  return { name: "InfluxDB", version, url, stop: () => stopChild(child) };
}

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: (string | number | null)[][];
}

/** Runs one InfluxQL statement (epoch seconds in the answer); throws on an error in the answer. */
export async function influxQuery(url: string, db: string, q: string): Promise<InfluxSeries[]> {
  const response = await fetch(`${url}/query?db=${encodeURIComponent(db)}&epoch=s`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ q }).toString(),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`InfluxDB answered ${response.status} to ${q.slice(0, 120)}: ${text}`);
  const parsed = JSON.parse(text) as { results: { series?: InfluxSeries[]; error?: string }[] };
  const result = parsed.results[0]!;
  if (result.error) throw new Error(`InfluxDB could not run ${q.slice(0, 120)}: ${result.error}`);
  return result.series ?? [];
}

/** Writes a body of line protocol (times in seconds). */
export async function influxWrite(url: string, db: string, lines: string): Promise<void> {
  const response = await fetch(`${url}/write?db=${encodeURIComponent(db)}&precision=s`, {
    method: "POST",
    body: lines,
  });
  if (response.status !== 204)
    throw new Error(`InfluxDB refused a write (${response.status}): ${await response.text()}`);
}

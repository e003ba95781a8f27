/**
 * The kernel-released lock: a live owner is refused with its pid, a killed owner frees the lock at
 * once (even while it is an unreaped zombie), and `hourglass up` starts again right after kill -9.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { isHourglassError } from "../src/errors.js";
import { acquireProcessLock, isProcessLockHeld } from "../src/process-lock.js";
import { BIN } from "./support/cli.js";
import { tempDir } from "./support/store.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const lockModule = path.join(root, "src", "process-lock.ts");
const dirs: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function freshDir(): string {
  const dir = tempDir("hg-lock-");
  dirs.push(dir);
  return dir;
}

/** Resolves with the first stdout line that matches. */
function lineMatching(child: ChildProcess, stream: "stdout" | "stderr", pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const source = child[stream];
    if (!source) return reject(new Error(`no ${stream}`));
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const match = seen.split("\n").find((line) => pattern.test(line));
      if (match !== undefined) {
        source.off("data", onData);
        resolve(match);
      }
    };
    source.on("data", onData);
    child.once("exit", (code, signal) =>
      reject(new Error(`exited (${code ?? signal}) before printing ${pattern}: ${seen}`)),
    );
  });
}

/**
 * A holder whose parent never reaps it: `sh` starts node in the background and then becomes
 * `sleep`, which ignores SIGCHLD, so a killed holder stays a zombie, as the issue saw.
 */
function spawnZombieableHolder(lockPath: string): { shell: ChildProcess; holderPid: Promise<number> } {
  const script = `import(${JSON.stringify(lockModule)}).then(async (m) => { await m.acquireProcessLock(${JSON.stringify(lockPath)}, "test"); console.log("held " + process.pid); setInterval(() => {}, 1000); })`;
  const shell = spawn(
    "/bin/sh",
    ["-c", `"${process.execPath}" --import tsx -e '${script.replaceAll("'", "'\\''")}' & exec sleep 600`],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
  );
  children.push(shell);
  const holderPid = lineMatching(shell, "stdout", /^held \d+/).then((line) => Number(line.split(" ")[1]));
  return { shell, holderPid };
}

function processState(pid: number): string | null {
  try {
    // The third field of /proc/PID/stat is the state: Z for a zombie.
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ")[0] ?? null;
  } catch {
    return null;
  }
}

describe("process lock", () => {
  it("refuses a second holder in the same process and frees on release", async () => {
    const lockPath = path.join(freshDir(), "x.lock");
    const lock = await acquireProcessLock(lockPath, "the thing");
    assert.equal(fs.readFileSync(lockPath, "utf8"), `${process.pid}\n`);
    assert.equal(isProcessLockHeld(lockPath), true);
    await assert.rejects(acquireProcessLock(lockPath, "the thing"), (error) =>
      isHourglassError(error, "Conflict"),
    );
    await lock.release();
    await lock.release();
    assert.equal(fs.existsSync(lockPath), false);
    assert.equal(isProcessLockHeld(lockPath), false);
    const again = await acquireProcessLock(lockPath, "the thing");
    await again.release();
  });

  it("a lock file left by a dead process is no lock", async () => {
    const lockPath = path.join(freshDir(), "x.lock");
    // Our own parent's pid is alive: a pid check would refuse; the kernel's lock does not.
    fs.writeFileSync(lockPath, `${process.ppid}\n`);
    assert.equal(isProcessLockHeld(lockPath), process.platform !== "linux");
    if (process.platform !== "linux") return;
    const lock = await acquireProcessLock(lockPath, "the thing");
    await lock.release();
  });

  it("names a live owner in another process, and is free the moment it is killed, zombie or not", {
    skip: process.platform !== "linux" && "the kernel-released lock is Linux's",
  }, async () => {
    const lockPath = path.join(freshDir(), "x.lock");
    const { holderPid } = spawnZombieableHolder(lockPath);
    const pid = await holderPid;
    assert.equal(isProcessLockHeld(lockPath), true);
    await assert.rejects(
      acquireProcessLock(lockPath, "the thing"),
      (error) =>
        isHourglassError(error, "Conflict") &&
        error.message === `the thing is in use by process ${pid} (lock file ${lockPath})`,
    );
    process.kill(pid, "SIGKILL");
    // The kill lands in steps: the main thread turns into a zombie first, and the descriptors
    // close when the last thread is gone. Nobody reaps it, and the lock is free all the same.
    const deadline = Date.now() + 30_000;
    while ((isProcessLockHeld(lockPath) || processState(pid) !== "Z") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(isProcessLockHeld(lockPath), false, "the kernel freed the lock");
    assert.equal(processState(pid), "Z", "the holder is still an unreaped zombie");
    const lock = await acquireProcessLock(lockPath, "the thing");
    await lock.release();
  });

  it("hourglass up starts again right after the previous one was killed with kill -9", {
    skip: process.platform !== "linux" && "the kernel-released lock is Linux's",
  }, async () => {
    const dir = freshDir();
    const upArgs = [
      "--state-dir",
      path.join(dir, "state"),
      "up",
      "--port",
      "0",
      "--dags",
      path.join(dir, "dags"),
    ];
    const start = () => {
      const child = spawn(process.execPath, [BIN, ...upArgs], {
        cwd: dir,
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.push(child);
      return child;
    };
    const first = start();
    await lineMatching(first, "stderr", /press Ctrl\+C to stop/);
    const second = start();
    const refusal = await new Promise<string>((resolve) => {
      let err = "";
      second.stderr?.on("data", (d: Buffer) => {
        err += d.toString();
      });
      second.once("exit", () => resolve(err));
    });
    assert.match(refusal, /Hourglass already runs for .* \(pid \d+\)/);
    first.kill("SIGKILL");
    const third = start();
    await lineMatching(third, "stderr", /press Ctrl\+C to stop/);
    const stopped = new Promise((resolve) => third.once("exit", (code) => resolve(code)));
    third.kill("SIGTERM");
    assert.equal(await stopped, 0);
  });
});

/** `hourglass up`, spawned as a user runs it in a terminal, stopped with Ctrl+C. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { BIN } from "../support/cli.js";

describe("hourglass up", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hg-cli-up-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("stops cleanly when Ctrl+C reaches the whole process group (workers included) right after it says so, exit 0", async () => {
    const dags = path.join(dir, "dags");
    fs.mkdirSync(dags);
    fs.writeFileSync(
      path.join(dags, "noop.ts"),
      `import { dag, task } from "hourglass";
export default dag({ id: "noop", schedule: null, startDate: "2024-03-01T00:00:00Z",
  tasks: [task({ id: "t", run: () => {} })] });
`,
    );
    // A process group of its own, as a terminal's foreground job: the signal goes to every member.
    const child = spawn(
      process.execPath,
      [BIN, "--state-dir", path.join(dir, "state"), "up", "--port", "0", "--workers", "2", "--dags", dags],
      { stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    const exited = once(child, "exit");
    // Only a safety net, so that a failing run leaves no process behind: the test waits on the exit.
    const reaper = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 150_000).unref();
    // Its log lines go to stderr, its results to stdout: both are watched. Ctrl+C goes out as soon
    // as the line asking for it arrives, from the very callback that sees it: a user may be that
    // quick, and the process must already listen (it used to print the line first, and died by
    // SIGINT about 1 run in 6 on a busy machine).
    let all = "";
    let sent = false;
    const take = (d: Buffer) => {
      all += d.toString();
      if (!sent && /press Ctrl\+C to stop/.test(all)) {
        sent = true;
        process.kill(-child.pid!, "SIGINT");
      }
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    const [code, signal] = await exited;
    clearTimeout(reaper);
    assert.ok(sent, `hourglass up did not come up: ${all}`);
    assert.equal(signal, null, `hourglass up was killed by ${signal}: ${all}`);
    assert.equal(code, 0, all);
    assert.match(all, /SIGINT: stopping/);
    assert.match(all, /stopped/);
    assert.doesNotMatch(all, /Error|ERR_/, "nothing is printed as an error on the way out");
  });
});

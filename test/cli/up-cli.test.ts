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

  it("stops cleanly when Ctrl+C reaches the whole process group (workers included), exit 0", async () => {
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
    // Its log lines go to stderr, its results to stdout: both are watched.
    let all = "";
    const up = new Promise<void>((resolve) => {
      const take = (d: Buffer) => {
        all += d.toString();
        if (/press Ctrl\+C to stop/.test(all)) resolve();
      };
      child.stdout.on("data", take);
      child.stderr.on("data", take);
    });
    const exited = once(child, "exit");
    await Promise.race([up, exited]);
    assert.match(all, /press Ctrl\+C to stop/, `hourglass up did not come up: ${all}`);
    process.kill(-child.pid!, "SIGINT");
    const [code] = await exited;
    assert.equal(code, 0, all);
    assert.match(all, /stopped/);
    assert.doesNotMatch(all, /Error|ERR_/, "nothing is printed as an error on the way out");
  });
});

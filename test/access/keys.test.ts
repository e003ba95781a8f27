/**
 * The key file and the SigV4 arithmetic without HTTP: keys.json's mode and atomic writes, the
 * KeyRing rereading a changed file, a broken file refused with its name, `auth` in the
 * configuration, and AWS's published get-vanilla example verified.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import {
  createAccessKey,
  KeyRing,
  keysFilePath,
  listAccessKeys,
  revokeAccessKey,
  verifySignature,
  writeKeyFile,
} from "../../src/access/index.js";
import { resolveConfig } from "../../src/config.js";
import { isHourglassError } from "../../src/errors.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/store.js";

describe("access keys", () => {
  const dir = tempDir("hg-keys-");
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("creates keys in a 0600 file, replaced whole, and lists them without secrets", () => {
    const a = createAccessKey(dir, "a");
    const b = createAccessKey(dir, "b");
    assert.match(a.accessKeyId, /^HGAK[A-Z2-7]{16}$/);
    assert.equal(a.secretAccessKey.length, 40);
    assert.notEqual(a.accessKeyId, b.accessKeyId);
    assert.equal(fs.statSync(keysFilePath(dir)).mode & 0o777, 0o600);
    assert.deepEqual(
      fs.readdirSync(dir).filter((name) => name.includes(".tmp")),
      [],
      "no temp file left behind",
    );
    const listed = listAccessKeys(dir);
    assert.deepEqual(
      listed.map((k) => k.name),
      ["a", "b"],
    );
    assert.ok(listed.every((k) => !("secretAccessKey" in k)));
  });

  it("lets a running KeyRing see new and revoked keys at once", () => {
    const ring = new KeyRing(dir);
    const fresh = createAccessKey(dir, "fresh");
    assert.equal(ring.find(fresh.accessKeyId)?.secretAccessKey, fresh.secretAccessKey);
    revokeAccessKey(dir, fresh.accessKeyId);
    assert.ok(ring.find(fresh.accessKeyId)?.revokedAt, "revocation seen on the next lookup");
    assert.throws(
      () => revokeAccessKey(dir, "HGAKNOTAKEY000000000"),
      (error: unknown) => isHourglassError(error, "NotFound") && /keys list/.test(error.message),
    );
    const memory = ring.addMemoryKey("tasks");
    assert.equal(ring.find(memory.accessKeyId), memory);
    assert.ok(!listAccessKeys(dir).some((k) => k.accessKeyId === memory.accessKeyId), "never on disk");
  });

  it("refuses a broken keys file naming it, and a running KeyRing keeps the keys it had", async () => {
    const broken = tempDir("hg-keys-broken-");
    try {
      const key = createAccessKey(broken, "kept");
      const ring = new KeyRing(broken);
      fs.writeFileSync(keysFilePath(broken), "{ not json");
      assert.equal(ring.find(key.accessKeyId)?.name, "kept");
      assert.throws(() => new KeyRing(broken), /keys\.json is not valid JSON.*move it away/);
      const cli = await runCli(["--state-dir", broken, "keys", "list"]);
      assert.equal(cli.code, 2);
      assert.match(cli.stderr, /keys\.json is not valid JSON/);
      writeKeyFile(keysFilePath(broken), []);
      fs.writeFileSync(keysFilePath(broken), JSON.stringify({ version: 1, keys: [{ accessKeyId: "x" }] }));
      assert.throws(() => listAccessKeys(broken), /is not a Hourglass keys file/);
    } finally {
      fs.rmSync(broken, { recursive: true, force: true });
    }
  });

  it("reads `auth` from flags, environment and file, and refuses a value that is not a yes or no", () => {
    const cwd = tempDir("hg-auth-config-");
    try {
      assert.equal(resolveConfig({ cwd, env: {} }).auth, true);
      assert.equal(resolveConfig({ cwd, env: { HOURGLASS_AUTH: "false" } }).auth, false);
      assert.equal(resolveConfig({ cwd, env: { HOURGLASS_AUTH: "off" } }).auth, false);
      assert.equal(resolveConfig({ cwd, env: {}, flags: { auth: false } }).auth, false);
      fs.writeFileSync(path.join(cwd, "hourglass.yaml"), "auth: false\n");
      assert.equal(resolveConfig({ cwd, env: {} }).auth, false);
      assert.throws(() => resolveConfig({ cwd, env: { HOURGLASS_AUTH: "maybe" } }), /auth/);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe("SigV4 verification", () => {
  // AWS's SigV4 test suite, "get-vanilla": GET / to example.amazonaws.com, signed 2015-08-30.
  const key = {
    accessKeyId: "AKIDEXAMPLE",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    name: "",
    createdAt: "",
  };
  const keys = { find: (id: string) => (id === key.accessKeyId ? key : undefined) };
  const signedAt = Date.UTC(2015, 7, 30, 12, 36, 0);
  const request = (signature: string) => ({
    method: "GET",
    rawPath: "/",
    rawQuery: "",
    host: "example.amazonaws.com",
    s3: false,
    bodySha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    headers: new Headers({
      host: "example.amazonaws.com",
      "x-amz-date": "20150830T123600Z",
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
    }),
  });

  it("accepts AWS's published example and refuses it with one character changed", () => {
    const good = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    assert.equal(verifySignature(request(good), keys, signedAt).key.accessKeyId, "AKIDEXAMPLE");
    assert.throws(
      () => verifySignature(request(good.replace(/.$/, "0")), keys, signedAt),
      (error: { reason?: string }) => error.reason === "badSignature",
    );
    assert.throws(
      () => verifySignature(request(good), keys, signedAt + 16 * 60_000),
      (error: { reason?: string; message: string }) =>
        error.reason === "skewed" &&
        error.message ===
          "Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z (20150830T125200Z - 15 min.)",
    );
  });
});

/**
 * Access keys that Hourglass issues: `<stateDir>/keys.json`, mode 0600, replaced atomically (write
 * a temp file, rename it over). A key is an access key id (20 characters, like AWS's) and a secret
 * access key, which is stored as it is: SigV4 derives its signing key from the secret itself, so a
 * hash would not do. The secret is shown once, by `hourglass keys create`, and never logged.
 *
 * The server reads the file through a KeyRing, which reloads it when it changed on disk (one
 * stat per lookup) so that keys created or revoked by the CLI count at once, with or without a
 * running server.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { HourglassError, notFound, validationError } from "../errors.js";

export const KEYS_FILE = "keys.json";

const keySchema = z.object({
  accessKeyId: z.string().regex(/^[A-Z0-9]{16,128}$/),
  secretAccessKey: z.string().min(16),
  name: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().optional(),
});
const fileSchema = z.object({ version: z.literal(1), keys: z.array(keySchema) });

export type AccessKey = z.infer<typeof keySchema>;
/** What `keys list` shows: everything but the secret. */
export type AccessKeySummary = Omit<AccessKey, "secretAccessKey">;

export const keysFilePath = (stateDir: string) => path.join(stateDir, KEYS_FILE);

/** Ids look like AWS's (`AKIA` + 16): `HGAK` + 16 characters of A–Z and 2–7. */
function newAccessKeyId(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bytes = randomBytes(16);
  let id = "HGAK";
  for (const byte of bytes) id += alphabet[byte % 32];
  return id;
}

/** 40 characters, as AWS's: 30 random bytes in base64. */
const newSecret = (): string => randomBytes(30).toString("base64");

/** The keys in a keys file; none if there is no file. A file that cannot be read is an error naming it. */
export function readKeyFile(file: string): AccessKey[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new HourglassError("Internal", `cannot read the keys file ${file}: ${String(error)}`, {
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw validationError(
      `the keys file ${file} is not valid JSON (${String(error)}): fix it, or move it away and create keys again`,
      { file },
    );
  }
  const result = fileSchema.safeParse(parsed);
  if (!result.success)
    throw validationError(
      `the keys file ${file} is not a Hourglass keys file (${result.error.issues[0]?.message ?? "bad shape"}): fix it, or move it away and create keys again`,
      { file },
    );
  return result.data.keys;
}

/** Writes the keys file: a temp file with mode 0600, synced, then renamed over the old one. */
export function writeKeyFile(file: string, keys: readonly AccessKey[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fd = fs.openSync(temp, "wx", 0o600);
  try {
    fs.writeFileSync(fd, `${JSON.stringify({ version: 1, keys }, null, 2)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
}

/** Creates a key, saves it, and returns it with its secret (the only time the secret is handed out). */
export function createAccessKey(stateDir: string, name = "", nowMs = Date.now()): AccessKey {
  const file = keysFilePath(stateDir);
  const keys = readKeyFile(file);
  const key: AccessKey = {
    accessKeyId: newAccessKeyId(),
    secretAccessKey: newSecret(),
    name,
    createdAt: new Date(nowMs).toISOString(),
  };
  writeKeyFile(file, [...keys, key]);
  return key;
}

export function listAccessKeys(stateDir: string): AccessKeySummary[] {
  return readKeyFile(keysFilePath(stateDir)).map(({ secretAccessKey: _secret, ...summary }) => summary);
}

/** Revokes a key by id. Revoking a revoked key is a no-op that returns it as it is. */
export function revokeAccessKey(stateDir: string, accessKeyId: string, nowMs = Date.now()): AccessKeySummary {
  const file = keysFilePath(stateDir);
  const keys = readKeyFile(file);
  const key = keys.find((k) => k.accessKeyId === accessKeyId);
  if (key === undefined)
    throw notFound(`no access key ${accessKeyId} in ${file}: \`hourglass keys list\` shows the ids`, {
      accessKeyId,
    });
  if (key.revokedAt === undefined) {
    key.revokedAt = new Date(nowMs).toISOString();
    writeKeyFile(file, keys);
  }
  const { secretAccessKey: _secret, ...summary } = key;
  return summary;
}

/** What request verification asks of the keys. */
export interface KeyLookup {
  /** The key with this id, revoked or not; undefined when there is none. */
  find(accessKeyId: string): AccessKey | undefined;
}

/**
 * The keys of a keys file as the server sees them, plus keys it holds in memory only (the key
 * its task processes get). Each lookup stats the file and reloads it when its identity, size or
 * modification time changed: a revocation counts from the next request on.
 */
export class KeyRing implements KeyLookup {
  readonly #file: string;
  readonly #memoryKeys = new Map<string, AccessKey>();
  #keys = new Map<string, AccessKey>();
  #stamp = "";

  constructor(stateDir: string) {
    this.#file = keysFilePath(stateDir);
    this.#reloadIfChanged();
  }

  /** Adds a key that lives as long as this process (never written to the file). */
  addMemoryKey(name: string): AccessKey {
    const key: AccessKey = {
      accessKeyId: newAccessKeyId(),
      secretAccessKey: newSecret(),
      name,
      createdAt: new Date().toISOString(),
    };
    this.#memoryKeys.set(key.accessKeyId, key);
    return key;
  }

  find(accessKeyId: string): AccessKey | undefined {
    const inMemory = this.#memoryKeys.get(accessKeyId);
    if (inMemory) return inMemory;
    this.#reloadIfChanged();
    return this.#keys.get(accessKeyId);
  }

  #reloadIfChanged(): void {
    let stamp: string;
    try {
      const stat = fs.statSync(this.#file, { bigint: true });
      stamp = `${stat.ino}:${stat.size}:${stat.mtimeNs}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      stamp = "none";
    }
    if (stamp === this.#stamp) return;
    // A file being replaced is renamed in whole, so a read sees the old or the new one; one that
    // is broken (edited by hand) keeps the keys last read, and the next change is read again.
    try {
      this.#keys = new Map(readKeyFile(this.#file).map((key) => [key.accessKeyId, key]));
      this.#stamp = stamp;
    } catch (error) {
      if (this.#stamp === "") throw error;
    }
  }
}

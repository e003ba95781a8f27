/**
 * `hourglass lake …`: buckets and objects in the habits of `aws s3` (mb, rb, ls, cp, cat, rm), and
 * the manifest beside an exported file. Over HTTP when a server runs for the state folder, else on
 * the lake folder directly (the lake needs no lock: every put is an atomic rename).
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, promises as fs } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import { HttpClient, type LakeClient, RemoteLake } from "../api/remote.js";
import { conflict, isHourglassError, notFound, validationError } from "../errors.js";
import type { ManifestFound } from "../operators/index.js";
import { configFrom, serverUrl } from "./context.js";
import {
  contentTypeOf,
  folderPrefix,
  humanSize,
  isLakeUrl,
  type LakePath,
  lakeUrl,
  parseLakePath,
  parseObjectPath,
  timestampText,
} from "./lake-paths.js";
import { printJson } from "./output.js";

/** Runs `work` with the lake: the server's over HTTP when one runs, else the lake folder. */
export async function withLake<T>(command: Command, work: (lake: LakeClient) => Promise<T>): Promise<T> {
  const config = await configFrom(command);
  const url = serverUrl(command, config);
  if (url) return work(new RemoteLake(new HttpClient(url)));
  // The lake folder's code and the manifest reader load when a command works on the folder itself,
  // not for --help or over HTTP (see main.ts); the reader's own module, as the operators' index.ts
  // would load the task runners (tsx, croner) too.
  const [{ openLocalLake }, { readExportManifest }] = await Promise.all([
    import("../lake/index.js"),
    import("../operators/read-manifest.js"),
  ]);
  const lake = openLocalLake(config.lakeDir);
  return work({
    createBucket: (bucket) => lake.createBucket(bucket),
    listBuckets: () => lake.listBuckets(),
    deleteBucket: (bucket) => lake.deleteBucket(bucket),
    putObject: (bucket, key, body, options) => lake.putObject(bucket, key, body, options),
    getObjectStream: (bucket, key) => lake.getObjectStream(bucket, key),
    headObject: (bucket, key) => lake.headObject(bucket, key),
    listObjects: (bucket, options) => lake.listObjects(bucket, options),
    deleteObject: (bucket, key) => lake.deleteObject(bucket, key),
    readManifest: (bucket, key) => readExportManifest(lake, bucket, key),
  });
}

/** Every object under `prefix`, page by page. */
async function* objectsUnder(lake: LakeClient, bucket: string, prefix: string) {
  let startAfter: string | undefined;
  for (;;) {
    const page = await lake.listObjects(bucket, { prefix, startAfter });
    yield* page.objects;
    if (!page.isTruncated) return;
    startAfter = page.nextStartAfter;
  }
}

/** Copies a stream to standard output; a reader that stops early (`| head`) is not an error. */
async function toStdout(source: Readable): Promise<void> {
  const stdout = process.stdout;
  let closed = false;
  let failure: Error | undefined;
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") closed = true;
    else failure = error;
  };
  stdout.on("error", onError);
  // Resolves on drain, or when the reader has gone (close, or the error onError records).
  const writable = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        for (const event of ["drain", "close", "error"]) stdout.off(event, done);
        resolve();
      };
      for (const event of ["drain", "close", "error"]) stdout.on(event, done);
    });
  // onError stays attached: a reader that goes away while the last bytes flush is no error either.
  for await (const chunk of source) {
    if (failure) throw failure;
    if (closed) break;
    if (!stdout.write(chunk)) await writable();
  }
  if (failure) throw failure;
}

// --- ls ------------------------------------------------------------------------------------

interface LsFlags {
  recursive?: boolean;
  humanReadable?: boolean;
  summarize?: boolean;
}

async function list(lake: LakeClient, target: string | undefined, o: LsFlags): Promise<void> {
  if (target === undefined) {
    for (const bucket of await lake.listBuckets()) console.log(bucket);
    return;
  }
  const { bucket, key: prefix } = parseLakePath(target);
  const size = (bytes: number) => (o.humanReadable ? humanSize(bytes) : String(bytes));
  // As `aws s3 ls`: names relative to the prefix's folder, full keys with --recursive.
  const shownFrom = o.recursive ? 0 : prefix.lastIndexOf("/") + 1;
  let objects = 0;
  let bytes = 0;
  let startAfter: string | undefined;
  for (;;) {
    const page = await lake.listObjects(bucket, {
      prefix,
      delimiter: o.recursive ? undefined : "/",
      startAfter,
    });
    const lines: string[] = page.commonPrefixes.map((p) => `${"PRE".padStart(30)} ${p.slice(shownFrom)}`);
    for (const object of page.objects) {
      objects++;
      bytes += object.size;
      lines.push(
        `${timestampText(object.lastModified)} ${size(object.size).padStart(10)} ${object.key.slice(shownFrom)}`,
      );
    }
    if (lines.length > 0) process.stdout.write(`${lines.join("\n")}\n`);
    if (!page.isTruncated) break;
    startAfter = page.nextStartAfter;
  }
  if (o.summarize) console.log(`\nTotal Objects: ${objects}\n   Total Size: ${size(bytes)}`);
}

// --- cp ------------------------------------------------------------------------------------

type Endpoint = { kind: "lake"; path: LakePath } | { kind: "local"; path: string } | { kind: "std" };

function endpointOf(text: string): Endpoint {
  if (text === "-") return { kind: "std" };
  if (isLakeUrl(text)) return { kind: "lake", path: parseLakePath(text) };
  return { kind: "local", path: text };
}

const basename = (key: string): string => key.slice(key.lastIndexOf("/") + 1);
/** `aws s3 cp`'s rule: a destination that is a bucket or ends with `/` gets the source's name. */
const lakeDestination = (dst: LakePath, name: string): LakePath =>
  dst.key === "" || dst.key.endsWith("/") ? { bucket: dst.bucket, key: `${dst.key}${name}` } : dst;

async function isDirectory(file: string): Promise<boolean> {
  return (await fs.stat(file).catch(() => null))?.isDirectory() ?? false;
}

async function requireHead(lake: LakeClient, { bucket, key }: LakePath) {
  const head = await lake.headObject(bucket, key);
  if (head === null) {
    throw notFound(
      `object ${lakeUrl(bucket, key)} does not exist (hourglass lake ls ${bucket}/ lists the bucket)`,
      {
        bucket,
        key,
      },
    );
  }
  return head;
}

async function upload(lake: LakeClient, file: string, dst: LakePath, contentType?: string): Promise<void> {
  const stat = await fs.stat(file).catch(() => null);
  if (stat === null) throw notFound(`local file ${file} does not exist`, { file });
  if (stat.isDirectory())
    throw validationError(`${file} is a folder: add --recursive to copy the files in it`);
  const target = lakeDestination(dst, path.basename(file));
  await lake.putObject(target.bucket, target.key, createReadStream(file), {
    contentType: contentType ?? contentTypeOf(file),
  });
  console.log(`upload: ${file} to ${lakeUrl(target.bucket, target.key)}`);
}

/** Written to a temp file beside the destination and renamed: never a half-downloaded file. */
async function download(lake: LakeClient, src: LakePath, file: string): Promise<void> {
  const target =
    file.endsWith("/") || file.endsWith(path.sep) || (await isDirectory(file))
      ? path.join(file, basename(src.key))
      : file;
  await fs.mkdir(path.dirname(path.resolve(target)), { recursive: true });
  const temp = `${target}.${randomBytes(6).toString("hex")}.part`;
  try {
    await pipeline(lake.getObjectStream(src.bucket, src.key), createWriteStream(temp, { flags: "wx" }));
    await fs.rename(temp, target);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
  console.log(`download: ${lakeUrl(src.bucket, src.key)} to ${target}`);
}

async function copyWithin(lake: LakeClient, src: LakePath, dst: LakePath): Promise<void> {
  const head = await requireHead(lake, src);
  const target = lakeDestination(dst, basename(src.key));
  await lake.putObject(target.bucket, target.key, lake.getObjectStream(src.bucket, src.key), {
    contentType: head.contentType,
  });
  console.log(`copy: ${lakeUrl(src.bucket, src.key)} to ${lakeUrl(target.bucket, target.key)}`);
}

/** Every file under a local folder, as `/`-separated paths relative to it, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) =>
      path
        .relative(dir, path.join(entry.parentPath ?? entry.path, entry.name))
        .split(path.sep)
        .join("/"),
    )
    .sort();
}

interface CpFlags {
  recursive?: boolean;
  contentType?: string;
}

async function copy(lake: LakeClient, from: string, to: string, o: CpFlags): Promise<void> {
  const src = endpointOf(from);
  const dst = endpointOf(to);
  if (src.kind !== "lake" && dst.kind !== "lake") {
    throw validationError(
      `neither ${JSON.stringify(from)} nor ${JSON.stringify(to)} is a lake path: write one as s3://BUCKET/KEY (or lake://BUCKET/KEY)`,
    );
  }
  if (o.recursive && (src.kind === "std" || dst.kind === "std")) {
    throw validationError(
      "--recursive copies folders: it cannot read from or write to - (standard input or output)",
    );
  }
  if (!o.recursive) {
    if (src.kind === "lake" && src.path.key === "") {
      throw validationError(
        `${from} names a bucket: name an object, or add --recursive to copy everything in it`,
      );
    }
    if (src.kind === "lake" && dst.kind === "lake") return copyWithin(lake, src.path, dst.path);
    if (src.kind === "lake" && dst.kind === "std")
      return toStdout(lake.getObjectStream(src.path.bucket, src.path.key));
    if (src.kind === "lake" && dst.kind === "local") return download(lake, src.path, dst.path);
    if (dst.kind !== "lake") throw new Error("unreachable: one side is the lake");
    if (src.kind === "local") return upload(lake, src.path, dst.path, o.contentType);
    if (dst.path.key === "" || dst.path.key.endsWith("/")) {
      throw validationError(
        `standard input has no name: give the object's full key, e.g. ${lakeUrl(dst.path.bucket, "data.csv")}`,
      );
    }
    await lake.putObject(dst.path.bucket, dst.path.key, process.stdin, {
      contentType: o.contentType ?? contentTypeOf(dst.path.key),
    });
    console.log(`upload: - to ${lakeUrl(dst.path.bucket, dst.path.key)}`);
    return;
  }
  // --recursive: a lake prefix is a folder (`2021-09-22` covers `2021-09-22/…` only).
  if (src.kind === "local" && dst.kind === "lake") {
    if (!(await isDirectory(src.path)))
      throw validationError(`${from} is not a folder: --recursive copies a folder's files`);
    const base = folderPrefix(dst.path.key);
    for (const rel of await filesUnder(src.path)) {
      await upload(
        lake,
        path.join(src.path, ...rel.split("/")),
        { bucket: dst.path.bucket, key: `${base}${rel}` },
        o.contentType,
      );
    }
    return;
  }
  if (src.kind !== "lake") throw new Error("unreachable: one side is the lake");
  const prefix = folderPrefix(src.path.key);
  for await (const object of objectsUnder(lake, src.path.bucket, prefix)) {
    const rel = object.key.slice(prefix.length);
    const from = { bucket: src.path.bucket, key: object.key };
    if (dst.kind === "local") await download(lake, from, path.join(dst.path, ...rel.split("/")));
    else if (dst.kind === "lake")
      await copyWithin(lake, from, { bucket: dst.path.bucket, key: `${folderPrefix(dst.path.key)}${rel}` });
  }
}

// --- rm, rb --------------------------------------------------------------------------------

async function remove(lake: LakeClient, target: string, o: { recursive?: boolean }): Promise<void> {
  if (!o.recursive) {
    const object = parseObjectPath(target);
    await requireHead(lake, object);
    await lake.deleteObject(object.bucket, object.key);
    console.log(`delete: ${lakeUrl(object.bucket, object.key)}`);
    return;
  }
  const { bucket, key } = parseLakePath(target);
  // The key itself (an object named like the folder cannot coexist with it here, but can on S3).
  if (key !== "" && !key.endsWith("/") && (await lake.headObject(bucket, key)) !== null) {
    await lake.deleteObject(bucket, key);
    console.log(`delete: ${lakeUrl(bucket, key)}`);
  }
  await removeUnder(lake, bucket, folderPrefix(key));
}

async function removeUnder(lake: LakeClient, bucket: string, prefix: string): Promise<void> {
  // Listed first, deleted after: deleting while paging would move the pages under the listing.
  const keys: string[] = [];
  for await (const object of objectsUnder(lake, bucket, prefix)) keys.push(object.key);
  for (const key of keys) {
    await lake.deleteObject(bucket, key);
    console.log(`delete: ${lakeUrl(bucket, key)}`);
  }
}

async function removeBucket(lake: LakeClient, bucket: string, o: { force?: boolean }): Promise<void> {
  const name = parseLakePath(bucket);
  if (name.key !== "")
    throw validationError(
      `${JSON.stringify(bucket)} is not a bucket name: rb takes a bucket, rm takes objects`,
    );
  if (o.force) await removeUnder(lake, name.bucket, "");
  try {
    await lake.deleteBucket(name.bucket);
  } catch (error) {
    if (isHourglassError(error, "Conflict")) {
      throw conflict(
        `${error.message}: delete its objects first (hourglass lake rm ${lakeUrl(name.bucket)} --recursive), or run hourglass lake rb ${name.bucket} --force`,
        { bucket: name.bucket },
      );
    }
    throw error;
  }
  console.log(`remove_bucket: ${name.bucket}`);
}

// --- manifest ------------------------------------------------------------------------------

function manifestText(found: ManifestFound): string {
  const m = found.manifest;
  const yesNo = (value: boolean) => (value ? "yes" : "no");
  const rows: [string, string][] = [
    ["file", lakeUrl(found.bucket, found.key)],
    ["manifest", lakeUrl(found.bucket, found.manifestKey)],
    ["rows", String(m.rows)],
    ["bytes", String(m.bytes)],
    ["sha256", m.sha256],
    [
      "format",
      `${m.format}, compression ${m.compression}, header ${yesNo(m.header)}, index column ${yesNo(m.indexColumn)}`,
    ],
    ["columns", (m.columns ?? []).join(", ")],
    ["interval", `${m.interval?.start} to ${m.interval?.end}`],
    ["dag", `${m.dagId}, task ${m.taskId}`],
    ["run", `${m.runId}, try ${m.tryNumber}`],
    ["code version", m.codeVersion ?? "(none)"],
    ["written at", m.writtenAt],
    ["manifest version", String(m.manifestVersion)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const query = String(m.query ?? "")
    .trim()
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
  return `${rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n")}\nquery\n${query}\n`;
}

/** Reads the file and compares its size and SHA-256 with the manifest's. */
async function verify(lake: LakeClient, found: ManifestFound): Promise<string> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of lake.getObjectStream(found.bucket, found.key)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).byteLength;
  }
  const sha256 = hash.digest("hex");
  if (bytes !== found.manifest.bytes || sha256 !== found.manifest.sha256) {
    throw conflict(
      `${lakeUrl(found.bucket, found.key)} does not match its manifest (file: ${bytes} bytes, sha256 ${sha256}; manifest: ${found.manifest.bytes} bytes, sha256 ${found.manifest.sha256}): an export may be committing it right now; if it persists, run the export again`,
      { bucket: found.bucket, key: found.key },
    );
  }
  return `verified: ${lakeUrl(found.bucket, found.key)} has the manifest's ${bytes} bytes and sha256`;
}

// --- the commands --------------------------------------------------------------------------

const examples = (lines: string[]) => `\nExamples:\n${lines.map((l) => `  ${l}`).join("\n")}`;

export function registerLake(program: Command): void {
  const lake = program
    .command("lake")
    .description("the lake's buckets and objects, like aws s3: mb, rb, ls, cp, cat, rm, and export manifests")
    .addHelpText(
      "after",
      "\nLake objects are written s3://BUCKET/KEY (lake://BUCKET/KEY also works); ls, cat, rm and manifest also take BUCKET/KEY.\nCommands go through the server when `hourglass up` runs in the state folder, else to the lake folder (HOURGLASS_LAKE_DIR, default <state>/lake).",
    );

  lake
    .command("mb <bucket>")
    .description("make a bucket (S3's naming rules: 3-63 lowercase letters, digits, dots, hyphens)")
    .addHelpText("after", examples(["hourglass lake mb demo-airflow-ts-output"]))
    .action(async (bucket: string, _o, cmd: Command) => {
      const name = parseLakePath(bucket);
      if (name.key !== "")
        throw validationError(`${JSON.stringify(bucket)} is not a bucket name: it has a /`);
      await withLake(cmd, (l) => l.createBucket(name.bucket));
      console.log(`make_bucket: ${name.bucket}`);
    });

  lake
    .command("rb <bucket>")
    .description("remove a bucket; refused while it holds objects unless --force")
    .option("--force", "delete every object in the bucket first")
    .addHelpText(
      "after",
      examples(["hourglass lake rb scratch-bucket", "hourglass lake rb scratch-bucket --force"]),
    )
    .action(async (bucket: string, o: { force?: boolean }, cmd: Command) => {
      await withLake(cmd, (l) => removeBucket(l, bucket, o));
    });

  lake
    .command("ls [path]")
    .description("list buckets, or the objects and folders (PRE) under BUCKET[/PREFIX]")
    .option("--recursive", "every object under the prefix, with full keys, no folders")
    .option("--human-readable", "sizes in Bytes, KiB, MiB, GiB")
    .option("--summarize", "end with the number of objects and their total size")
    .addHelpText(
      "after",
      `${examples([
        "hourglass lake ls",
        "hourglass lake ls demo-airflow-ts-output",
        "hourglass lake ls s3://demo-airflow-ts-output/2021-09-22-13/",
        "hourglass lake ls demo-airflow-ts-output --recursive --human-readable --summarize",
      ])}\n\nTimes are UTC. As with aws s3 ls, a prefix without a trailing / shows the matching folder (PRE 2021-09-22-13/); add the / to list inside it.`,
    )
    .action(async (target: string | undefined, o: LsFlags, cmd: Command) => {
      await withLake(cmd, (l) => list(l, target, o));
    });

  lake
    .command("cp <source> <destination>")
    .description("copy a file into the lake, out of it, or within it (- is standard input or output)")
    .option("--recursive", "copy a folder's files, or every object under a lake prefix")
    .option("--content-type <type>", "content type of uploads (default from the extension: .csv is text/csv)")
    .addHelpText(
      "after",
      `${examples([
        "hourglass lake cp ./hosts.csv s3://demo-airflow-ts-output/reference/hosts.csv",
        "hourglass lake cp s3://demo-airflow-ts-output/2021-09-22-13/my_file.csv .",
        "hourglass lake cp s3://demo-airflow-ts-output/2021-09-22-13 ./13h --recursive",
        "hourglass lake cp ./exports s3://backup-bucket/exports --recursive",
      ])}\n\nA destination that ends with / (or a bucket, or a local folder) gets the source's name. Uploads are atomic; downloads are written to a temp file and renamed.`,
    )
    .action(async (source: string, destination: string, o: CpFlags, cmd: Command) => {
      await withLake(cmd, (l) => copy(l, source, destination, o));
    });

  lake
    .command("cat <object>")
    .description("print an object (an exported CSV) to standard output, as it is read")
    .addHelpText(
      "after",
      examples(["hourglass lake cat demo-airflow-ts-output/2021-09-22-13/my_file.csv | head"]),
    )
    .action(async (target: string, _o, cmd: Command) => {
      const { bucket, key } = parseObjectPath(target);
      await withLake(cmd, (l) => toStdout(l.getObjectStream(bucket, key)));
    });

  lake
    .command("rm <path>")
    .description("delete an object, or with --recursive every object under a prefix")
    .option(
      "--recursive",
      "delete every object under BUCKET/PREFIX (a prefix is a folder: 2021-09-22 covers 2021-09-22/…)",
    )
    .addHelpText(
      "after",
      examples([
        "hourglass lake rm demo-airflow-ts-output/2021-09-22-13/my_file.csv",
        "hourglass lake rm s3://demo-airflow-ts-output/2021-09-22-13 --recursive",
      ]),
    )
    .action(async (target: string, o: { recursive?: boolean }, cmd: Command) => {
      await withLake(cmd, (l) => remove(l, target, o));
    });

  lake
    .command("manifest <object>")
    .description("print the export manifest beside an exported file (<key>.manifest.json)")
    .option("--format <format>", "text or json", "text")
    .option("--verify", "also read the file and check its size and sha256 against the manifest")
    .addHelpText(
      "after",
      examples([
        "hourglass lake manifest demo-airflow-ts-output/2021-09-22-13/my_file.csv",
        "hourglass lake manifest s3://demo-airflow-ts-output/2021-09-22-13/my_file.csv --format json --verify",
      ]),
    )
    .action(async (target: string, o: { format: string; verify?: boolean }, cmd: Command) => {
      if (o.format !== "text" && o.format !== "json") {
        throw validationError(`--format must be text or json, got ${JSON.stringify(o.format)}`);
      }
      const { bucket, key } = parseObjectPath(target);
      await withLake(cmd, async (l) => {
        const found = await l.readManifest(bucket, key);
        if (o.format === "json") printJson(found.manifest);
        else process.stdout.write(manifestText(found));
        if (o.verify) {
          const verdict = await verify(l, found);
          (o.format === "json" ? process.stderr : process.stdout).write(`${verdict}\n`);
        }
      });
    });
}

/**
 * Reading the manifest an export wrote beside its file (`<key>.manifest.json`, see manifest.ts),
 * for the REST API and the CLI. A missing manifest is told apart from a missing file, so the
 * message says which one the user has to look for.
 */
import { isHourglassError, notFound, validationError } from "../errors.js";
import type { Lake } from "../lake/index.js";
import { manifestKeyOf, manifestSuffix } from "./export-request.js";
import type { ExportManifest } from "./manifest.js";

/** The lake calls the reader needs (a local lake and the REST client both have them). */
export type ManifestSource = Pick<Lake, "getObjectStream" | "headObject">;

export interface ManifestFound {
  bucket: string;
  /** The data file's key. */
  key: string;
  manifestKey: string;
  manifest: ExportManifest;
}

/** Manifests are a few kilobytes; anything far larger is not one. */
const maxManifestBytes = 1024 * 1024;

/** The data file's key and its manifest's key; `key` may name either. */
export function manifestKeysOf(key: string): { key: string; manifestKey: string } {
  if (key.endsWith(manifestSuffix) && key.length > manifestSuffix.length) {
    return { key: key.slice(0, -manifestSuffix.length), manifestKey: key };
  }
  return { key, manifestKey: manifestKeyOf(key) };
}

export async function readExportManifest(
  lake: ManifestSource,
  bucket: string,
  keyOrManifestKey: string,
): Promise<ManifestFound> {
  const { key, manifestKey } = manifestKeysOf(keyOrManifestKey);
  const where = `s3://${bucket}/${manifestKey}`;
  let text: string;
  try {
    text = await readSmallObject(lake, bucket, manifestKey, where);
  } catch (error) {
    if (!isHourglassError(error, "NotFound") || error.context["key"] === undefined) throw error;
    // The manifest is missing: say whether the data file is too (a typo) or has none (not an export).
    const file = await lake.headObject(bucket, key);
    if (file === null) throw notFound(`object s3://${bucket}/${key} does not exist`, { bucket, key });
    throw notFound(
      `s3://${bucket}/${key} has no manifest (${where} does not exist): only files written by an export have one`,
      { bucket, key, manifestKey },
    );
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch {
    throw validationError(`${where} is not JSON: it is not an export manifest`, { bucket, key: manifestKey });
  }
  if (typeof manifest !== "object" || manifest === null || !("manifestVersion" in manifest)) {
    throw validationError(`${where} has no manifestVersion: it is not an export manifest`, {
      bucket,
      key: manifestKey,
    });
  }
  return { bucket, key, manifestKey, manifest: manifest as ExportManifest };
}

async function readSmallObject(lake: ManifestSource, bucket: string, key: string, where: string) {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of lake.getObjectStream(bucket, key)) {
    bytes += (chunk as Buffer).byteLength;
    if (bytes > maxManifestBytes) {
      throw validationError(
        `${where} is larger than ${maxManifestBytes} bytes: it is not an export manifest`,
        {
          bucket,
          key,
        },
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

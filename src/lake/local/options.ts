/**
 * Checks of the local lake's option arguments.
 */
import { validationError } from "../../errors.js";
import type { ListOptions } from "../types.js";
import { defaultContentType } from "./content.js";

const maxListKeys = 1000;

export function checkContentType(contentType: unknown): string {
  if (contentType === undefined) return defaultContentType;
  if (typeof contentType !== "string" || contentType.length === 0) {
    throw validationError("contentType must be a non-empty string", { contentType });
  }
  return contentType;
}

export function checkListOptions(options: ListOptions) {
  const prefix = options.prefix ?? "";
  if (typeof prefix !== "string") throw validationError("prefix must be a string", { prefix });
  const delimiter = options.delimiter === "" ? undefined : options.delimiter;
  if (delimiter !== undefined && typeof delimiter !== "string")
    throw validationError("delimiter must be a string");
  const startAfter = options.startAfter === "" ? undefined : options.startAfter;
  if (startAfter !== undefined && typeof startAfter !== "string")
    throw validationError("startAfter must be a string");
  const maxKeys = options.maxKeys ?? maxListKeys;
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1 || maxKeys > maxListKeys) {
    throw validationError(`maxKeys must be an integer from 1 to ${maxListKeys}, got ${maxKeys}`, { maxKeys });
  }
  return { prefix, delimiter, startAfter, maxKeys };
}

/** S3's limit: the names and values of an object's user metadata take at most 2 KB. */
const maxMetadataBytes = 2048;

export function checkMetadata(metadata: unknown): Record<string, string> | undefined {
  if (metadata === undefined) return undefined;
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata))
    throw validationError("metadata must be an object of strings");
  let bytes = 0;
  for (const [name, value] of Object.entries(metadata)) {
    if (typeof value !== "string" || name.length === 0 || name !== name.toLowerCase())
      throw validationError(`metadata ${JSON.stringify(name)} must be a lowercase name with a string value`, {
        name,
      });
    bytes += Buffer.byteLength(name, "utf8") + Buffer.byteLength(value, "utf8");
  }
  if (bytes > maxMetadataBytes)
    throw validationError(`metadata takes ${bytes} bytes: at most ${maxMetadataBytes} are kept`, { bytes });
  return { ...(metadata as Record<string, string>) };
}

/** An etag given to a put: an MD5 in lowercase hex, with `-<parts>` for a multipart upload's. */
export function checkEtag(etag: unknown): string | undefined {
  if (etag === undefined) return undefined;
  if (typeof etag !== "string" || !/^[0-9a-f]{32}(-[1-9][0-9]{0,4})?$/.test(etag))
    throw validationError(
      `etag ${JSON.stringify(etag)} must be 32 lowercase hex digits, optionally -<parts>`,
      {
        etag,
      },
    );
  return etag;
}

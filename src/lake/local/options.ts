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

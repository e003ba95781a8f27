/**
 * The lake: object storage for exports. `openLocalLake` keeps objects in a folder; an S3
 * implementation of the same interface belongs in `s3/`.
 */
export { openLocalLake } from "./local/index.js";
export { checkBucketName, checkKey, maxKeyBytes } from "./names.js";
export type {
  Lake,
  ListOptions,
  ListResult,
  ObjectBody,
  ObjectHead,
  ObjectSummary,
  PutOptions,
  PutResult,
} from "./types.js";

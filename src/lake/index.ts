/**
 * The lake: object storage for exports. `openLocalLake` keeps objects in a folder; an S3
 * implementation of the same interface belongs in `s3/`.
 */
export { copyObject, type ObjectAddress } from "./copy.js";
export { openLocalLake } from "./local/index.js";
export {
  type MultipartRefusal,
  type MultipartUpload,
  MultipartUploads,
  maxPartNumber,
  minPartBytes,
  multipartEtag,
  type StagedPart,
} from "./multipart.js";
export { checkBucketName, checkKey, maxKeyBytes } from "./names.js";
export { resolveRange } from "./range.js";
export type {
  BucketHead,
  ByteRange,
  Lake,
  ListOptions,
  ListResult,
  ObjectBody,
  ObjectHead,
  ObjectRead,
  ObjectSummary,
  PutOptions,
  PutResult,
} from "./types.js";

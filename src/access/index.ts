/** Access: the keys Hourglass issues and the SigV4 verification of AWS clients' requests. */

export { ChunkSignatureChain } from "./chunks.js";
export {
  type AccessKey,
  type AccessKeySummary,
  createAccessKey,
  KEYS_FILE,
  type KeyLookup,
  KeyRing,
  keysFilePath,
  listAccessKeys,
  readKeyFile,
  revokeAccessKey,
  writeKeyFile,
} from "./keys.js";
export {
  EMPTY_SHA256,
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  sha256Hex,
  UNSIGNED_PAYLOAD,
} from "./sigv4.js";
export {
  AuthFailure,
  type AuthFailureReason,
  isAuthFailure,
  MAX_CLOCK_SKEW_MS,
  type SignedRequest,
  type VerifiedRequest,
  verifySignature,
} from "./verify.js";

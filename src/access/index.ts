/**
 * Access: the keys Hourglass issues, the SigV4 verification of AWS clients' requests, and IAM
 * policy documents (validation, evaluation, the ARNs and actions of Hourglass's resources).
 */

export {
  AWS_ACTIONS,
  accessFor,
  canonicalAction,
  KNOWN_ACTIONS,
  KNOWN_SERVICES,
  OPERATION_ACCESS,
  type OperationAccess,
  RESOURCE_SHAPES,
  type ResourceKind,
} from "./actions.js";
export {
  type Arn,
  type ArnScope,
  DEFAULT_ARN_SCOPE,
  formatArn,
  parseArn,
  type ResourceArns,
  resourceArns,
} from "./arn.js";
export { ChunkSignatureChain } from "./chunks.js";
export { type RequestContext, requestContext } from "./conditions.js";
export {
  type AccessRequest,
  type Decision,
  describeStatement,
  PolicySet,
  type StatementRef,
} from "./evaluate.js";
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
  type CheckOptions,
  checkPolicyText,
  type Finding,
  loadPolicy,
  POLICY_VERSION,
  type PolicyCheck,
  type PolicyDocument,
  type PolicyStatement,
} from "./policy.js";
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

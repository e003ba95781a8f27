/** Access: IAM policy documents, their validation and evaluation, and the ARNs and actions of Hourglass's resources. */

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
export { type RequestContext, requestContext } from "./conditions.js";
export {
  type AccessRequest,
  type Decision,
  describeStatement,
  PolicySet,
  type StatementRef,
} from "./evaluate.js";
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

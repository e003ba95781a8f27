/** The AWS-compatible endpoints: Timestream Write and Query (JSON 1.0) and Kinesis (JSON 1.1) at `POST /`. */
export { awsRoutes, KINESIS_TARGET_PREFIX, TIMESTREAM_TARGET_PREFIX } from "./aws-routes.js";
export type { AwsBackends, TimestreamBackend } from "./backends.js";
export {
  type AwsEnv,
  type AwsRequestInfo,
  awsResponse,
  JSON_10,
  JSON_11,
  newRequestInfo,
} from "./protocol.js";
export { type Tag, TagStore } from "./tags.js";

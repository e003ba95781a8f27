/** The S3 REST API over the lake, on the same port as the other AWS-compatible endpoints. */
export { bucketFromHost, isS3ClientRequest } from "./addressing.js";
export { createS3Endpoint, type S3Endpoint, type S3EndpointOptions } from "./router.js";

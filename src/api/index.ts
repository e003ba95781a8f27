/**
 * The api part's door for the server: the HTTP app (REST API, AWS-compatible endpoints, S3), the
 * HTTP server that serves it, the route groups the runtime mounts, and `defineRoute` for routes
 * declared elsewhere (the UI's). Clients of a running server use the light door, src/api/remote.ts.
 */
export { type AppLogger, type AppOptions, createApp, defaultMaxRestBodyBytes } from "./app.js";
export {
  type HttpServerOptions,
  type NodeRequestBindings,
  type RunningHttpServer,
  startHttpServer,
} from "./http-server.js";
export { defineRoute } from "./openapi/index.js";
export { connectorRoutes } from "./rest/connector-routes.js";
export { exportRoutes } from "./rest/export-routes.js";
export { lakeRoutes } from "./rest/lake-routes.js";
export { workflowRoutes } from "./rest/workflow-routes.js";

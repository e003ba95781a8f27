/**
 * The api part's door for the server: the HTTP app (REST API, AWS-compatible endpoints, S3), the
 * HTTP server that serves it, and `defineRoute` for routes declared elsewhere (the UI's, which
 * createApp mounts when given). Clients of a running server use the light door, src/api/remote.ts.
 */
export { type AppLogger, type AppOptions, createApp, defaultMaxRestBodyBytes } from "./app.js";
export {
  type HttpServerOptions,
  type NodeRequestBindings,
  type RunningHttpServer,
  startHttpServer,
} from "./http-server.js";
export { defineRoute } from "./openapi/index.js";
export { freshnessRoutes } from "./rest/freshness-routes.js";
export { scheduledQueryRoutes } from "./rest/scheduled-query-routes.js";

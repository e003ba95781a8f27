/** The REST routes' registry and the OpenAPI document built from it (docs/api.md, "OpenAPI"). */
export {
  type AnyRouteSpec,
  defineRoute,
  describeIssues,
  type ResponseSpec,
  type RouteInput,
  type RouteMethod,
  type RouteSpec,
  routeSpecOf,
} from "./define-route.js";
export { type MountedRoute, type OpenApiDocument, openApiDocument, openApiPath } from "./document.js";
export { referenceRoutes } from "./reference-routes.js";
export { checkedByService, errorBodySchema, isoTime } from "./schemas.js";

/**
 * The web UI part's door: the routes that serve its bundle, the JSON routes its pages read, and the
 * change counter its live view polls.
 */
export { type UiApiOptions, uiApiRoutes } from "./api.js";
export { ChangeCounter } from "./changes.js";
export { uiRoutes } from "./server.js";

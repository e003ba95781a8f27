/**
 * The api part's light door, for clients of a running server (the CLI, workers, `dags test`): the
 * HTTP client of the REST API, the remote store, stream, connectors and lake built on it, and the
 * server-info file that says where the server listens. It loads no server code (Hono, routes, the
 * store's engine): `hourglass --help` and a CLI talking to a server stay light. The server side is
 * src/api/index.ts.
 */
export { HttpClient, RemoteConnectors, RemoteStore, RemoteStream } from "./client.js";
export { type LakeClient, RemoteLake } from "./lake-client.js";
export {
  acquireServerLock,
  readServerInfo,
  removeServerInfo,
  type ServerInfo,
  writeServerInfo,
} from "./server-info.js";

/**
 * Serves a fetch-style app (the Hono app) on a host and port, over HTTP/1.1 and cleartext HTTP/2
 * on the same port. HTTP/2 is needed because the AWS SDK for JavaScript v3's Kinesis client speaks
 * only HTTP/2 by default (with prior knowledge on `http://`), while boto3, curl and fetch speak
 * HTTP/1.1. Each connection's first bytes tell which: HTTP/2 starts with the preface `PRI * HTTP/2.0`.
 */
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { getRequestListener } from "@hono/node-server";
import { HourglassError } from "../errors.js";

const http2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
/** How long close() lets requests in flight finish before it cuts their connections. */
const defaultCloseGraceMs = 2000;

/** What the app gets as its env (Hono's `c.env`): the node request behind the fetch Request. */
export interface NodeRequestBindings {
  incoming: { url?: string };
}

export interface HttpServerOptions {
  /** Defaults to 127.0.0.1: listening on every interface is a choice, not a default. */
  host?: string;
  /** 0 (the default) takes a free port; `port` on the result says which. */
  port?: number;
  closeGraceMs?: number;
}

export interface RunningHttpServer {
  host: string;
  port: number;
  /** `http://host:port`, with IPv6 hosts in brackets. */
  url: string;
  /** Stops accepting connections, lets requests in flight finish (up to closeGraceMs), then cuts the rest. */
  close(): Promise<void>;
}

export async function startHttpServer(
  app: { fetch: (request: Request, env?: NodeRequestBindings) => Response | Promise<Response> },
  options: HttpServerOptions = {},
): Promise<RunningHttpServer> {
  const host = options.host ?? "127.0.0.1";
  // The node request goes along as the app's env: S3 reads the request target as it was sent.
  const listener = getRequestListener((request, env) => app.fetch(request, env));
  const http1Server = http.createServer(listener);
  const http2Server = http2.createServer(listener);
  const sockets = new Set<net.Socket>();
  // The HTTP/1 server never listens itself (connections are handed to it), so Node's own idle
  // tracking is off: requests in flight are counted per connection here instead.
  const http1InFlight = new Map<net.Socket, number>();
  const sessions = new Set<http2.Http2Session>();
  /** Connections that have not sent their first bytes yet, so belong to neither server. */
  const unsniffed = new Set<net.Socket>();
  let stopping = false;
  let onDrained: (() => void) | undefined;
  http2Server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  http1Server.on("request", (request: http.IncomingMessage, response: http.ServerResponse) => {
    const socket = request.socket;
    http1InFlight.set(socket, (http1InFlight.get(socket) ?? 0) + 1);
    response.once("close", () => {
      const left = (http1InFlight.get(socket) ?? 1) - 1;
      http1InFlight.set(socket, left);
      if (stopping && left === 0) socket.destroy();
    });
  });

  const front = net.createServer((socket) => {
    sockets.add(socket);
    unsniffed.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      unsniffed.delete(socket);
      http1InFlight.delete(socket);
      if (sockets.size === 0) onDrained?.();
    });
    socket.on("error", () => socket.destroy());
    sniff(socket, (isHttp2) => {
      unsniffed.delete(socket);
      if (isHttp2) {
        http2Server.emit("connection", socket);
      } else {
        http1InFlight.set(socket, 0);
        http1Server.emit("connection", socket);
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    front.once("error", reject);
    front.listen(options.port ?? 0, host, () => {
      front.off("error", reject);
      resolve();
    });
  });
  const address = front.address();
  if (address === null || typeof address === "string") {
    throw new HourglassError("Internal", "the HTTP server has no TCP address");
  }
  const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    host: address.address,
    port: address.port,
    url: `http://${urlHost}:${address.port}`,
    close() {
      closing ??= (async () => {
        stopping = true;
        const closed = new Promise<void>((resolve) => front.close(() => resolve()));
        for (const socket of unsniffed) socket.destroy();
        for (const [socket, inFlight] of http1InFlight) if (inFlight === 0) socket.destroy();
        for (const session of sessions) session.close();
        await new Promise<void>((resolve) => {
          if (sockets.size === 0) return resolve();
          const timer = setTimeout(resolve, options.closeGraceMs ?? defaultCloseGraceMs);
          onDrained = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        for (const socket of sockets) socket.destroy();
        await closed;
      })();
      return closing;
    },
  };
}

/** Reads the first bytes of a connection, puts them back, and says whether they open HTTP/2. */
function sniff(socket: net.Socket, route: (isHttp2: boolean) => void): void {
  let seen = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    seen = Buffer.concat([seen, chunk]);
    const length = Math.min(seen.length, http2Preface.length);
    const samePrefix = seen.subarray(0, length).equals(http2Preface.subarray(0, length));
    // Wait for more only while the bytes so far could still be the start of the preface.
    if (samePrefix && seen.length < http2Preface.length) return;
    socket.off("data", onData);
    socket.pause();
    socket.unshift(seen);
    route(samePrefix);
    // The HTTP/1 server reads through the stream, which must flow again (the bytes put back come
    // first); an HTTP/2 session takes the bytes buffered in the stream and then reads the socket's
    // handle itself, and a flowing stream would steal from it.
    if (!samePrefix) socket.resume();
  };
  socket.on("data", onData);
}

/**
 * What every request passes before a route sees it, so that a web page in the user's browser
 * cannot drive a local Hourglass and no single request can take its memory:
 *
 * - `Host` must name this machine (an IP literal, `localhost`, `*.localhost`, the host name) or a
 *   name the config allows: a DNS-rebinding page reaches 127.0.0.1 under its own name and is refused.
 * - A change (any method but GET, HEAD and OPTIONS) that carries an `Origin` must come from the
 *   server's own origin or an allowed one; `Sec-Fetch-Site: cross-site` without an Origin too.
 * - A REST change may not carry a body a browser can send cross-site without asking first
 *   (text/plain, form-encoded, multipart): JSON is what the REST API reads.
 * - Bodies have a size limit. An oversized body is read to its end and thrown away before the
 *   413 goes out, since clients such as Python's http.client write the whole body before they read
 *   the answer and would see a broken pipe instead of the error.
 *
 * Until sign-in exists (the access issue), these are what stands between a web page and the API.
 */
import os from "node:os";
import type { Context, MiddlewareHandler } from "hono";
import { HourglassError } from "../errors.js";

export interface GuardOptions {
  /** Host names accepted in `Host` besides IP literals, localhost, `*.localhost` and this machine's name. `*.example.com` allows sub-domains; `*` allows any. */
  allowedHosts?: readonly string[];
  /** Origins (`http://host:port`) whose pages may make changes, besides the server's own. */
  allowedOrigins?: readonly string[];
}

/** The safe methods: they change nothing, so a cross-site request can do no harm with them. */
const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);
/** The content types a browser sends cross-site without a CORS preflight (Fetch standard, "CORS-safelisted"). */
const preflightFreeTypes = new Set([
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data",
]);

export function hostAndOriginGuard(options: GuardOptions = {}): MiddlewareHandler {
  const allowedHosts = (options.allowedHosts ?? []).map((h) => h.toLowerCase());
  const allowedOrigins = new Set(
    (options.allowedOrigins ?? []).map((o) => o.toLowerCase().replace(/\/$/, "")),
  );
  const machineName = os.hostname().toLowerCase();
  return async (c, next) => {
    const authority = c.req.header("host") ?? new URL(c.req.url).host;
    const hostname = hostnameOf(authority);
    if (!hostIsAllowed(hostname, machineName, allowedHosts)) {
      throw guardError(
        "AccessDenied",
        `Host "${authority}" is not a name this server answers to (a guard against DNS rebinding): use 127.0.0.1 or localhost, or add the name to allowedHosts in hourglass.yaml`,
        421,
      );
    }
    if (!safeMethods.has(c.req.method)) {
      const origin = c.req.header("origin");
      const ownOrigin = `${new URL(c.req.url).protocol}//${authority}`.toLowerCase();
      if (origin !== undefined) {
        const normalised = origin.toLowerCase();
        if (normalised !== ownOrigin && !allowedOrigins.has(normalised)) {
          throw guardError(
            "AccessDenied",
            `a ${c.req.method} from the web page at ${origin} is refused: changes are taken from this server's own pages, scripts and SDKs; add the origin to allowedOrigins in hourglass.yaml to allow it`,
            403,
          );
        }
      } else if (c.req.header("sec-fetch-site") === "cross-site") {
        throw guardError(
          "AccessDenied",
          `a cross-site ${c.req.method} from a web page is refused: changes are taken from this server's own pages, scripts and SDKs`,
          403,
        );
      }
    }
    await next();
  };
}

/** REST changes read JSON: a body of a type browsers send cross-site without asking is refused. */
export function restContentTypeGuard(): MiddlewareHandler {
  return async (c, next) => {
    if (!safeMethods.has(c.req.method) && hasBody(c)) {
      const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
      if (type === "" || preflightFreeTypes.has(type)) {
        throw guardError(
          "ValidationError",
          `a ${c.req.method} to ${c.req.path} must send its body as application/json (Content-Type: application/json), not ${type === "" ? "without a content type" : type}`,
          415,
        );
      }
    }
    await next();
  };
}

export interface BodyLimitOptions {
  maxBytes: number;
  /** An oversized body is read and thrown away up to this many bytes; past it the connection is cut. */
  drainBytes?: number;
  /** Builds the error; the app's error handler answers it in the route's shape (REST or AWS). */
  describe?: (maxBytes: number) => string;
}

const defaultDrainBytes = 256 * 1024 * 1024;

/**
 * Limits the request body to `maxBytes`. A body of unknown length (chunked) is read up to the
 * limit and handed on from memory; a larger one is drained (up to `drainBytes`) and answered 413.
 */
export function bodySizeLimit(options: BodyLimitOptions): MiddlewareHandler {
  const { maxBytes } = options;
  const drainBytes = options.drainBytes ?? defaultDrainBytes;
  const tooLarge = () =>
    guardError(
      "ValidationError",
      options.describe?.(maxBytes) ??
        `the request body is larger than ${maxBytes.toLocaleString("en-US")} bytes, this endpoint's limit (docs/limits.md)`,
      413,
    );
  return async (c, next) => {
    if (safeMethods.has(c.req.method)) return next();
    // The headers first: touching `c.req.raw.body` makes @hono/node-server build a full Request
    // around a web stream of the socket, and the route's c.req.text() then reads through it
    // instead of straight from the socket (a third of a millisecond a WriteRecords call).
    const declared = c.req.header("content-length");
    if (declared !== undefined) {
      const length = Number(declared);
      if (Number.isSafeInteger(length) && length <= maxBytes) return next();
    }
    const body = c.req.raw.body;
    if (body === null) return next();
    if (declared !== undefined) {
      await drain(body.getReader(), 0, drainBytes, c);
      throw tooLarge();
    }
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await drain(reader, size, drainBytes, c);
        throw tooLarge();
      }
      chunks.push(value);
    }
    c.req.raw = new Request(c.req.raw, { body: Buffer.concat(chunks) });
    return next();
  };
}

/** Reads and discards the rest of a body; past `limit` bytes it stops and asks for the connection to close. */
async function drain(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  alreadyRead: number,
  limit: number,
  c: Context,
): Promise<void> {
  let read = alreadyRead;
  try {
    while (read <= limit) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
    }
    c.header("Connection", "close");
    await reader.cancel();
  } catch {
    // the client went away: nothing left to answer
  }
}

/**
 * Whether the request carries a body, from its headers (HTTP/1.1: a body has a Content-Length or a
 * Transfer-Encoding). The Request's own `body` is not null even for a bodiless DELETE.
 */
function hasBody(c: Context): boolean {
  const length = c.req.header("content-length");
  if (length !== undefined) return Number(length) > 0;
  return c.req.header("transfer-encoding") !== undefined;
}

function hostnameOf(authority: string): string {
  const lower = authority.toLowerCase();
  if (lower.startsWith("[")) return lower.slice(0, lower.indexOf("]") + 1);
  const colon = lower.lastIndexOf(":");
  return colon < 0 ? lower : lower.slice(0, colon);
}

function hostIsAllowed(hostname: string, machineName: string, allowed: readonly string[]): boolean {
  if (hostname === "" || hostname.startsWith("[")) return true; // HTTP/1.0 without Host; IPv6 literal
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(hostname)) return true;
  if (hostname === "localhost" || hostname.endsWith(".localhost")) return true;
  if (hostname === machineName) return true;
  return allowed.some(
    (entry) =>
      entry === "*" ||
      entry === hostname ||
      (entry.startsWith("*.") && hostname.endsWith(entry.slice(1)) && hostname.length > entry.length - 1),
  );
}

/** A HourglassError that answers with its own HTTP status (the app's error handler reads `httpStatus`). */
function guardError(code: "AccessDenied" | "ValidationError", message: string, httpStatus: number) {
  return new HourglassError(code, message, { context: { httpStatus } });
}

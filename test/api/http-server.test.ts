import assert from "node:assert/strict";
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { describe, it } from "node:test";
import { startHttpServer } from "../../src/api/http-server.js";

/** A tiny fetch-style app: answers with the method and path it was asked for. */
const echoApp = {
  fetch: async (request: Request) => new Response(`${request.method} ${new URL(request.url).pathname}`),
};

function http1Get(url: string, agent?: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: agent ?? false }, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

function http2Get(url: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on("error", reject);
    const stream = session.request({ ":path": path });
    let status = 0;
    let body = "";
    stream.on("response", (headers) => {
      status = Number(headers[":status"]);
    });
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      body += chunk;
    });
    stream.on("end", () => {
      session.close();
      resolve({ status, body });
    });
    stream.on("error", reject);
    stream.end();
  });
}

describe("startHttpServer", () => {
  it("takes a free port for port 0 and reports it", async () => {
    const server = await startHttpServer(echoApp, { port: 0 });
    try {
      assert.equal(server.host, "127.0.0.1");
      assert.ok(server.port > 0);
      assert.equal(server.url, `http://127.0.0.1:${server.port}`);
      assert.deepEqual(await http1Get(`${server.url}/x`), { status: 200, body: "GET /x" });
    } finally {
      await server.close();
    }
  });

  it("serves HTTP/1.1 and cleartext HTTP/2 on the same port", async () => {
    const server = await startHttpServer(echoApp);
    try {
      const [one, two] = await Promise.all([http1Get(`${server.url}/one`), http2Get(server.url, "/two")]);
      assert.deepEqual(one, { status: 200, body: "GET /one" });
      assert.deepEqual(two, { status: 200, body: "GET /two" });
      const viaFetch = await fetch(`${server.url}/three`, { method: "POST", body: "x".repeat(100_000) });
      assert.equal(await viaFetch.text(), "POST /three");
    } finally {
      await server.close();
    }
  });

  it("tells HTTP/1.1 from HTTP/2 even when the first bytes arrive one at a time", async () => {
    const server = await startHttpServer(echoApp);
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(server.port, "127.0.0.1", () => {
          // "P" could begin the HTTP/2 preface ("PRI * HTTP/2.0"): the server must wait for more.
          socket.write("P", () => {
            socket.write("OST /split HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
          });
        });
        let data = "";
        socket.setEncoding("utf8");
        socket.on("data", (chunk: string) => {
          data += chunk;
        });
        socket.on("end", () => resolve(data));
        socket.on("error", reject);
      });
      assert.match(reply, /^HTTP\/1\.1 200/);
      assert.match(reply, /POST \/split$/);
    } finally {
      await server.close();
    }
  });

  it("lets a request in flight finish on close, then refuses new connections", async () => {
    let entered!: () => void;
    const handlerEntered = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slowApp = {
      fetch: async () => {
        entered();
        await gate;
        return new Response("finished");
      },
    };
    const server = await startHttpServer(slowApp, { closeGraceMs: 10_000 });
    const inFlight = http1Get(`${server.url}/slow`);
    await handlerEntered;
    const closed = server.close();
    release();
    assert.deepEqual(await inFlight, { status: 200, body: "finished" });
    await closed;
    await assert.rejects(http1Get(`${server.url}/after`), /ECONNREFUSED/);
  });

  it("closes at once when keep-alive connections are idle", async () => {
    const server = await startHttpServer(echoApp, { closeGraceMs: 30_000 });
    const agent = new http.Agent({ keepAlive: true });
    try {
      await http1Get(`${server.url}/a`, agent);
      const started = Date.now();
      await server.close();
      assert.ok(Date.now() - started < 5_000, `close took ${Date.now() - started} ms`);
    } finally {
      agent.destroy();
    }
  });

  it("fails clearly when the port is taken", async () => {
    const first = await startHttpServer(echoApp);
    try {
      await assert.rejects(startHttpServer(echoApp, { port: first.port }), /EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});

/**
 * Signatures and keys: every official client succeeds with a key issued by `hourglass keys
 * create` (JS SDK v3 for Timestream Write/Query, Kinesis and S3; a presigned URL; boto3 from pyenv
 * and from Debian; the AWS CLI), and each bad signature is refused in its service's words with
 * nothing stored: unsigned, wrong secret, unknown key, revoked key, a clock 20 minutes off, a
 * body changed on the way, chunk signatures that do not hold, an expired presigned URL.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { CreateStreamCommand, KinesisClient, ListStreamsCommand } from "@aws-sdk/client-kinesis";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { QueryCommand, TimestreamQueryClient } from "@aws-sdk/client-timestream-query";
import {
  CreateDatabaseCommand,
  CreateTableCommand,
  ListDatabasesCommand,
  TimestreamWriteClient,
  WriteRecordsCommand,
} from "@aws-sdk/client-timestream-write";
import { keysFilePath } from "../../src/access/index.js";
import { runCli } from "../support/cli.js";
import { presignedUrl, signedFetch, signer, signingKeyFor, type TestCredentials } from "../support/sigv4.js";
import { failure } from "./helpers.js";
import { type S3TestServer, startS3TestServer } from "./s3-helpers.js";

const execFileAsync = promisify(execFile);

interface Clients {
  write: TimestreamWriteClient;
  query: TimestreamQueryClient;
  kinesis: KinesisClient;
  s3: S3Client;
  destroy(): void;
}

function clientsFor(
  url: string,
  credentials: TestCredentials,
  extra: { systemClockOffset?: number } = {},
): Clients {
  const config = { region: "us-east-1", credentials, endpoint: url, maxAttempts: 1, ...extra };
  const clients = {
    write: new TimestreamWriteClient(config),
    query: new TimestreamQueryClient(config),
    kinesis: new KinesisClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
  };
  return {
    ...clients,
    destroy: () => {
      for (const client of Object.values(clients)) client.destroy();
    },
  };
}

const nameOf = (error: Record<string, unknown>) => String(error["name"]);
const statusOf = (error: Record<string, unknown>) =>
  (error["$metadata"] as { httpStatusCode?: number }).httpStatusCode;
const codeOf = (xml: string) => xml.match(/<Code>([^<]*)<\/Code>/)?.[1];

async function issueKey(stateDir: string, name: string): Promise<TestCredentials> {
  const created = await runCli(["--state-dir", stateDir, "keys", "create", "--name", name, "--json"]);
  assert.equal(created.code, 0, created.stderr);
  const key = JSON.parse(created.stdout) as { AccessKeyId: string; SecretAccessKey: string };
  return { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
}

describe("SigV4 with issued keys", () => {
  let t: S3TestServer;
  let key: TestCredentials;
  let good: Clients;
  const recordTimeMs = Date.now() - 60_000;

  const record = (host: string) => ({
    Dimensions: [{ Name: "host", Value: host }],
    MeasureName: "cpu",
    MeasureValue: "1.5",
    MeasureValueType: "DOUBLE" as const,
    Time: String(recordTimeMs),
  });
  const rowCount = async () => {
    const out = await good.query.send(
      new QueryCommand({ QueryString: 'SELECT count(*) FROM "sig-db"."sig-table"' }),
    );
    return Number(out.Rows?.[0]?.Data?.[0]?.ScalarValue);
  };

  before(async () => {
    t = await startS3TestServer({ nowMs: Date.now() });
    // Issued by the real CLI into the server's state folder while the server runs.
    key = await issueKey(t.dir, "sigv4 test");
    good = clientsFor(t.server.url, key);
    await good.write.send(new CreateDatabaseCommand({ DatabaseName: "sig-db" }));
    await good.write.send(
      new CreateTableCommand({
        DatabaseName: "sig-db",
        TableName: "sig-table",
        RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
      }),
    );
    await good.s3.send(new CreateBucketCommand({ Bucket: "signed" }));
  });
  after(async () => {
    good?.destroy();
    await t?.close();
  });

  it("serves the JS SDK v3 (Timestream Write and Query, Kinesis over HTTP/2, S3) signed with an issued key", async () => {
    await good.write.send(
      new WriteRecordsCommand({ DatabaseName: "sig-db", TableName: "sig-table", Records: [record("a")] }),
    );
    assert.equal(await rowCount(), 1);
    await good.kinesis.send(new CreateStreamCommand({ StreamName: "sig-stream", ShardCount: 1 }));
    assert.deepEqual((await good.kinesis.send(new ListStreamsCommand({}))).StreamNames, ["sig-stream"]);
    await good.s3.send(new PutObjectCommand({ Bucket: "signed", Key: "dir/a b+c.txt", Body: "signed body" }));
    const got = await good.s3.send(new GetObjectCommand({ Bucket: "signed", Key: "dir/a b+c.txt" }));
    assert.equal(await got.Body!.transformToString(), "signed body");
  });

  it("keeps the key file private and lists keys without their secrets", async () => {
    assert.equal(fs.statSync(keysFilePath(t.dir)).mode & 0o777, 0o600);
    const listed = await runCli(["--state-dir", t.dir, "keys", "list", "--json"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(!listed.stdout.includes(key.secretAccessKey), "list shows no secret");
    const keys = JSON.parse(listed.stdout) as { accessKeyId: string; name: string }[];
    assert.ok(keys.some((k) => k.accessKeyId === key.accessKeyId && k.name === "sigv4 test"));
    const table = await runCli(["--state-dir", t.dir, "keys", "list"]);
    assert.match(table.stdout, new RegExp(`${key.accessKeyId}\\s+sigv4 test\\s+\\S+\\s+active`));
    for (const command of [["keys"], ["keys", "create"], ["keys", "list"], ["keys", "revoke"]]) {
      const help = await runCli([...command, "--help"]);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /Usage: hourglass keys/);
    }
    const unknown = await runCli(["--state-dir", t.dir, "keys", "revoke", "HGAKNOSUCHKEY0000000"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no access key HGAKNOSUCHKEY0000000 .*keys list/);
  });

  it("serves presigned URLs (GET and PUT) and refuses an expired one with AccessDenied", async () => {
    await good.s3.send(new PutObjectCommand({ Bucket: "signed", Key: "shared.txt", Body: "for a link" }));
    const link = await presignedUrl(t.server.url, key, { path: "/signed/shared.txt", expiresIn: 300 });
    assert.match(link, /X-Amz-Signature=[0-9a-f]{64}/);
    const got = await fetch(link);
    assert.equal(got.status, 200);
    assert.equal(await got.text(), "for a link");

    const upload = await presignedUrl(t.server.url, key, {
      method: "PUT",
      path: "/signed/by-link.txt",
      expiresIn: 300,
    });
    assert.equal((await fetch(upload, { method: "PUT", body: "uploaded by link" })).status, 200);
    const back = await good.s3.send(new GetObjectCommand({ Bucket: "signed", Key: "by-link.txt" }));
    assert.equal(await back.Body!.transformToString(), "uploaded by link");

    const expired = await presignedUrl(t.server.url, key, {
      path: "/signed/shared.txt",
      expiresIn: 60,
      signingDate: new Date(Date.now() - 2 * 60_000),
    });
    const refused = await fetch(expired);
    const body = await refused.text();
    assert.equal(refused.status, 403);
    assert.equal(codeOf(body), "AccessDenied");
    assert.match(body, /Request has expired/);
    assert.match(body, /<X-Amz-Expires>60<\/X-Amz-Expires>/);

    const tampered = link.replace("shared.txt", "by-link.txt");
    const wrong = await fetch(tampered);
    assert.equal(wrong.status, 403);
    assert.equal(codeOf(await wrong.text()), "SignatureDoesNotMatch");
  });

  it("refuses unsigned calls: MissingAuthenticationTokenException (JSON), AccessDenied (S3)", async () => {
    const unsigned = await fetch(t.server.url, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": "Timestream_20181101.WriteRecords",
      },
      body: JSON.stringify({ DatabaseName: "sig-db", TableName: "sig-table", Records: [record("unsigned")] }),
    });
    assert.equal(unsigned.status, 400);
    const json = (await unsigned.json()) as Record<string, string>;
    assert.equal(json["__type"], "MissingAuthenticationTokenException");
    assert.match(json["message"]!, /Missing Authentication Token.*hourglass keys create/);
    const kinesis = await fetch(t.server.url, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "Kinesis_20131202.ListStreams",
      },
      body: "{}",
    });
    assert.equal(
      ((await kinesis.json()) as Record<string, string>)["__type"],
      "MissingAuthenticationTokenException",
    );

    const s3 = await fetch(`${t.server.url}/signed/shared.txt`, {
      headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
    });
    assert.equal(s3.status, 403);
    assert.equal(codeOf(await s3.text()), "AccessDenied");
    const sigV2 = await fetch(t.server.url, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": "Timestream_20181101.ListDatabases",
        authorization: "AWS AKIDEXAMPLE:signature",
      },
      body: "{}",
    });
    assert.equal(((await sigV2.json()) as Record<string, string>)["__type"], "IncompleteSignatureException");
    assert.equal(await rowCount(), 1, "nothing written");
  });

  it("refuses a wrong secret: InvalidSignatureException (Timestream, Kinesis), SignatureDoesNotMatch (S3)", async () => {
    const wrong = clientsFor(t.server.url, {
      accessKeyId: key.accessKeyId,
      secretAccessKey: "not-the-secret-at-all",
    });
    try {
      const write = await failure(
        wrong.write.send(
          new WriteRecordsCommand({
            DatabaseName: "sig-db",
            TableName: "sig-table",
            Records: [record("wrong")],
          }),
        ),
      );
      assert.equal(nameOf(write), "InvalidSignatureException");
      assert.equal(statusOf(write), 400);
      assert.match(write.message, /signature we calculated does not match/);
      assert.equal(
        nameOf(await failure(wrong.query.send(new QueryCommand({ QueryString: "SELECT 1" })))),
        "InvalidSignatureException",
      );
      assert.equal(
        nameOf(await failure(wrong.kinesis.send(new ListStreamsCommand({})))),
        "InvalidSignatureException",
      );
      const put = await failure(
        wrong.s3.send(new PutObjectCommand({ Bucket: "signed", Key: "wrong.txt", Body: "x" })),
      );
      assert.equal(nameOf(put), "SignatureDoesNotMatch");
      assert.equal(statusOf(put), 403);
    } finally {
      wrong.destroy();
    }
    assert.equal(await rowCount(), 1, "nothing written");
    assert.equal(
      statusOf(await failure(good.s3.send(new HeadObjectCommand({ Bucket: "signed", Key: "wrong.txt" })))),
      404,
    );
  });

  it("refuses an unknown key: UnrecognizedClientException (JSON), InvalidAccessKeyId (S3)", async () => {
    const stranger = clientsFor(t.server.url, {
      accessKeyId: "AKIAIOSFODNN7EXAMPLE",
      secretAccessKey: key.secretAccessKey,
    });
    try {
      const write = await failure(stranger.write.send(new ListDatabasesCommand({})));
      assert.equal(nameOf(write), "UnrecognizedClientException");
      assert.match(
        write.message,
        /security token included in the request is invalid.*AKIAIOSFODNN7EXAMPLE.*hourglass keys create/,
      );
      assert.equal(
        nameOf(await failure(stranger.kinesis.send(new ListStreamsCommand({})))),
        "UnrecognizedClientException",
      );
      const get = await failure(
        stranger.s3.send(new GetObjectCommand({ Bucket: "signed", Key: "shared.txt" })),
      );
      assert.equal(nameOf(get), "InvalidAccessKeyId");
      assert.equal(statusOf(get), 403);
    } finally {
      stranger.destroy();
    }
  });

  it("refuses a clock 20 minutes off: InvalidSignatureException 'Signature expired' (JSON), RequestTimeTooSkewed (S3)", async () => {
    for (const offset of [-20 * 60_000, 20 * 60_000]) {
      const skewed = clientsFor(t.server.url, key, { systemClockOffset: offset });
      try {
        const write = await failure(
          skewed.write.send(
            new WriteRecordsCommand({
              DatabaseName: "sig-db",
              TableName: "sig-table",
              Records: [record("skew")],
            }),
          ),
        );
        assert.equal(nameOf(write), "InvalidSignatureException");
        assert.match(
          write.message,
          offset < 0
            ? /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/
            : /^Signature not yet current: /,
        );
        const put = await failure(
          skewed.s3.send(new PutObjectCommand({ Bucket: "signed", Key: "skewed.txt", Body: "x" })),
        );
        assert.equal(nameOf(put), "RequestTimeTooSkewed");
        assert.equal(statusOf(put), 403);
      } finally {
        skewed.destroy();
      }
    }
    // 14 minutes is within AWS's 15.
    const close = clientsFor(t.server.url, key, { systemClockOffset: -14 * 60_000 });
    try {
      await close.write.send(new ListDatabasesCommand({}));
    } finally {
      close.destroy();
    }
    assert.equal(await rowCount(), 1, "nothing written");
    assert.equal(
      statusOf(await failure(good.s3.send(new HeadObjectCommand({ Bucket: "signed", Key: "skewed.txt" })))),
      404,
    );
  });

  it("refuses a body changed after signing, and a payload hash that is not the body's", async () => {
    const body = JSON.stringify({
      DatabaseName: "sig-db",
      TableName: "sig-table",
      Records: [record("tamper")],
    });
    const headers = {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": "Timestream_20181101.WriteRecords",
    };
    const changed = await signedFetch(t.server.url, key, {
      service: "timestream",
      headers,
      body,
      sentBody: body.replace("tamper", "tampex"),
    });
    assert.equal(changed.status, 400);
    assert.equal(((await changed.json()) as Record<string, string>)["__type"], "InvalidSignatureException");
    const wrongHash = await signedFetch(t.server.url, key, {
      service: "timestream",
      headers: { ...headers, "x-amz-content-sha256": createHash("sha256").update("other").digest("hex") },
      body,
    });
    assert.equal(((await wrongHash.json()) as Record<string, string>)["__type"], "InvalidSignatureException");
    assert.equal(await rowCount(), 1, "nothing written");

    // S3: the signed hash is checked while the body streams; the put commits nothing.
    const s3Body = "the body that was signed";
    const s3Changed = await signedFetch(t.server.url, key, {
      service: "s3",
      method: "PUT",
      path: "/signed/tampered.txt",
      headers: { "x-amz-content-sha256": createHash("sha256").update(s3Body).digest("hex") },
      body: s3Body,
      sentBody: "the body that was Signed",
    });
    const xml = await s3Changed.text();
    assert.equal(s3Changed.status, 400, xml);
    assert.equal(codeOf(xml), "XAmzContentSHA256Mismatch");
    assert.match(xml, /<ClientComputedContentSHA256>[0-9a-f]{64}<\/ClientComputedContentSHA256>/);
    const s3Unsigned = await signedFetch(t.server.url, key, {
      service: "s3",
      method: "PUT",
      path: "/signed/no-hash.txt",
      body: "x",
      applyChecksum: false,
    });
    assert.equal(s3Unsigned.status, 400);
    assert.equal(codeOf(await s3Unsigned.text()), "InvalidRequest", "S3 requires x-amz-content-sha256");
    for (const name of ["tampered.txt", "no-hash.txt"])
      assert.equal(
        statusOf(await failure(good.s3.send(new HeadObjectCommand({ Bucket: "signed", Key: name })))),
        404,
      );
  });

  it("verifies STREAMING-AWS4-HMAC-SHA256-PAYLOAD chunk signatures, and refuses a changed chunk", async () => {
    const signedAt = new Date();
    const chunks = [Buffer.alloc(8192, "a"), Buffer.from("tail")];
    const put = async (objectKey: string, change: boolean) => {
      const decodedLength = chunks.reduce((sum, c) => sum + c.length, 0);
      const url = new URL(`/signed/${objectKey}`, t.server.url);
      // The seed: the request's own signature, over the headers with the streaming payload marker.
      const seed = await signer(key, "s3").sign(
        {
          method: "PUT",
          protocol: "http:",
          hostname: url.hostname,
          port: Number(url.port),
          path: url.pathname,
          query: {},
          headers: {
            host: url.host,
            "content-encoding": "aws-chunked",
            "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            "x-amz-decoded-content-length": String(decodedLength),
          },
        },
        { signingDate: signedAt },
      );
      const amzDate = seed.headers["x-amz-date"]!;
      const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
      const signingKey = signingKeyFor(key.secretAccessKey, amzDate.slice(0, 8), "us-east-1", "s3");
      let previous = /Signature=([0-9a-f]{64})/.exec(seed.headers["authorization"]!)![1]!;
      const parts: Buffer[] = [];
      for (const chunk of [...chunks, Buffer.alloc(0)]) {
        const toSign = [
          "AWS4-HMAC-SHA256-PAYLOAD",
          amzDate,
          scope,
          previous,
          createHash("sha256").update("").digest("hex"),
          createHash("sha256").update(chunk).digest("hex"),
        ].join("\n");
        previous = createHmac("sha256", signingKey).update(toSign).digest("hex");
        const sent = change && chunk.length === 4 ? Buffer.from("TAIL") : chunk;
        parts.push(
          Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`),
          sent,
          Buffer.from("\r\n"),
        );
      }
      const headers = { ...seed.headers };
      delete headers["host"];
      return fetch(url, { method: "PUT", headers, body: Buffer.concat(parts) });
    };
    const ok = await put("chunked-signed.bin", false);
    assert.equal(ok.status, 200, await ok.text());
    const got = await good.s3.send(new GetObjectCommand({ Bucket: "signed", Key: "chunked-signed.bin" }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), Buffer.concat(chunks));

    const changed = await put("chunked-changed.bin", true);
    const xml = await changed.text();
    assert.equal(changed.status, 403, xml);
    assert.equal(codeOf(xml), "SignatureDoesNotMatch");
    assert.equal(
      statusOf(
        await failure(good.s3.send(new HeadObjectCommand({ Bucket: "signed", Key: "chunked-changed.bin" }))),
      ),
      404,
    );
  });

  it("refuses a revoked key at once, on every endpoint, while the server runs", async () => {
    const doomed = await issueKey(t.dir, "to revoke");
    const clients = clientsFor(t.server.url, doomed);
    try {
      await clients.write.send(new ListDatabasesCommand({}));
      await clients.s3.send(new PutObjectCommand({ Bucket: "signed", Key: "before-revoke.txt", Body: "ok" }));
      const revoked = await runCli(["--state-dir", t.dir, "keys", "revoke", doomed.accessKeyId]);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.match(revoked.stdout, new RegExp(`revoked ${doomed.accessKeyId} \\(to revoke\\)`));
      const write = await failure(
        clients.write.send(
          new WriteRecordsCommand({
            DatabaseName: "sig-db",
            TableName: "sig-table",
            Records: [record("revoked")],
          }),
        ),
      );
      assert.equal(nameOf(write), "UnrecognizedClientException");
      assert.match(write.message, /was revoked/);
      assert.equal(
        nameOf(await failure(clients.kinesis.send(new ListStreamsCommand({})))),
        "UnrecognizedClientException",
      );
      const put = await failure(
        clients.s3.send(new PutObjectCommand({ Bucket: "signed", Key: "after-revoke.txt", Body: "no" })),
      );
      assert.equal(nameOf(put), "InvalidAccessKeyId");
    } finally {
      clients.destroy();
    }
    assert.equal(await rowCount(), 1, "nothing written");
    assert.equal(
      statusOf(
        await failure(good.s3.send(new HeadObjectCommand({ Bucket: "signed", Key: "after-revoke.txt" }))),
      ),
      404,
    );
    // The other keys still work.
    await good.write.send(new ListDatabasesCommand({}));
  });

  const PYTHONS = [
    { python: "python3", label: "boto3 on PATH (pyenv)" },
    { python: "/usr/bin/python3", label: "Debian's boto3 1.26" },
  ];
  const BOTO_SCRIPT = `
import json, sys, urllib.request
import boto3
from botocore.config import Config
endpoint, key, secret = sys.argv[1:4]
common = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
              aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))
out = {}
out["databases"] = [d["DatabaseName"] for d in boto3.client("timestream-write", **common).list_databases()["Databases"]]
out["count"] = boto3.client("timestream-query", **common).query(
    QueryString='SELECT count(*) FROM "sig-db"."sig-table"')["Rows"][0]["Data"][0]["ScalarValue"]
out["streams"] = boto3.client("kinesis", **common).list_streams()["StreamNames"]
s3 = boto3.client("s3", **common)
s3.put_object(Bucket="signed", Key="boto/" + sys.argv[4] + ".txt", Body=b"from boto3")
out["got"] = s3.get_object(Bucket="signed", Key="boto/" + sys.argv[4] + ".txt")["Body"].read().decode()
link = s3.generate_presigned_url("get_object", Params={"Bucket": "signed", "Key": "boto/" + sys.argv[4] + ".txt"}, ExpiresIn=60)
out["presigned"] = urllib.request.urlopen(link).read().decode()
bad = boto3.client("s3", **{**common, "aws_secret_access_key": "wrong"})
try:
    bad.get_object(Bucket="signed", Key="boto/" + sys.argv[4] + ".txt")
except Exception as error:
    out["wrong_secret"] = error.response["Error"]["Code"]
print(json.dumps(out))
`;
  for (const { python, label } of PYTHONS) {
    const probe = spawnSync(python, ["-c", "import boto3"], { encoding: "utf8" });
    const skip = probe.status === 0 ? false : `${python} has no boto3`;
    it(`serves ${label} signed with an issued key, presigned URLs included`, { skip }, async () => {
      const tag = path.basename(python);
      const { stdout } = await execFileAsync(
        python,
        ["-c", BOTO_SCRIPT, t.server.url, key.accessKeyId, key.secretAccessKey, tag],
        {
          timeout: 120_000,
          env: { ...process.env, AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null" },
        },
      );
      const out = JSON.parse(stdout) as Record<string, unknown>;
      assert.deepEqual(out["databases"], ["sig-db"]);
      assert.equal(out["count"], "1");
      assert.deepEqual(out["streams"], ["sig-stream"]);
      assert.equal(out["got"], "from boto3");
      assert.equal(out["presigned"], "from boto3");
      assert.equal(out["wrong_secret"], "SignatureDoesNotMatch");
    });
  }

  const aws = fs.existsSync("/usr/bin/aws")
    ? "/usr/bin/aws"
    : spawnSync("sh", ["-c", "command -v aws"], { encoding: "utf8" }).stdout.trim();
  it("serves the AWS CLI signed with an issued key (kinesis, s3 cp, s3 presign), and refuses a wrong secret", {
    skip: aws ? false : "no aws CLI",
  }, async () => {
    const work = fs.mkdtempSync(path.join(t.dir, "cli-"));
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: key.accessKeyId,
      AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_CONFIG_FILE: path.join(work, "no-config"),
      AWS_SHARED_CREDENTIALS_FILE: path.join(work, "no-credentials"),
      AWS_PAGER: "",
      AWS_MAX_ATTEMPTS: "1",
    };
    const run = (args: string[], extraEnv: Record<string, string> = {}) =>
      execFileAsync(aws, ["--endpoint-url", t.server.url, ...args], {
        env: { ...env, ...extraEnv },
        timeout: 120_000,
      });
    const streams = JSON.parse((await run(["kinesis", "list-streams"])).stdout) as { StreamNames: string[] };
    assert.deepEqual(streams.StreamNames, ["sig-stream"]);
    const file = path.join(work, "up.txt");
    fs.writeFileSync(file, "from the aws cli");
    await run(["s3", "cp", file, "s3://signed/cli/up.txt"]);
    const link = (await run(["s3", "presign", "s3://signed/cli/up.txt", "--expires-in", "60"])).stdout.trim();
    assert.equal(await (await fetch(link)).text(), "from the aws cli");
    // The CLI presigns with Signature Version 2 by default: a changed expiry breaks it.
    const stretched = link.replace(/Expires=(\d+)/, (_m, at: string) => `Expires=${Number(at) + 3600}`);
    const refusedLink = await fetch(stretched);
    assert.equal(refusedLink.status, 403);
    assert.equal(codeOf(await refusedLink.text()), "SignatureDoesNotMatch");
    const refused = await run(["s3", "ls", "s3://signed/"], { AWS_SECRET_ACCESS_KEY: "wrong" }).then(
      () => null,
      (error: { stderr: string }) => error.stderr,
    );
    assert.match(refused ?? "the call succeeded", /SignatureDoesNotMatch/);
  });
});

/**
 * The lake, as the S3 console: buckets; a bucket's prefixes and files (sizes, times), folder by
 * folder; a file: CSV shown as a table (first 500 rows), its export manifest when it has one, and
 * a download link.
 */
import { ApiError, api, enc } from "./api";
import { ErrorBox, Loading, Table } from "./components";
import { link } from "./router";
import { fmtBytes, fmtTime, parseCsv, useData } from "./util";

interface Listing {
  Contents: Array<{ Key: string; Size: number; LastModified: string }>;
  CommonPrefixes: Array<{ Prefix: string }>;
  IsTruncated: boolean;
  NextContinuationToken?: string;
}

const objectUrl = (bucket: string, key: string) =>
  `/api/v1/buckets/${enc(bucket)}/objects/${key.split("/").map(enc).join("/")}`;

export function LakePage({
  bucket,
  prefix,
  objectKey,
}: {
  bucket: string | null;
  prefix: string;
  objectKey: string | null;
}) {
  if (bucket === null) return <Buckets />;
  if (objectKey !== null) return <ObjectView bucket={bucket} objectKey={objectKey} />;
  return <Folder bucket={bucket} prefix={prefix} />;
}

function Crumbs({ bucket, prefix }: { bucket: string | null; prefix: string }) {
  const parts = prefix.split("/").filter((p) => p !== "");
  return (
    <nav class="crumbs">
      <a href="#/lake">Lake</a>
      {bucket === null ? null : (
        <>
          {" / "}
          <a href={link("lake", bucket)}>{bucket}</a>
          {parts.map((part, i) => (
            <span key={i}>
              {" / "}
              <a href={`${link("lake", bucket)}?prefix=${enc(`${parts.slice(0, i + 1).join("/")}/`)}`}>
                {part}
              </a>
            </span>
          ))}
        </>
      )}
    </nav>
  );
}

function Buckets() {
  const { data, error } = useData(() => api<{ Buckets: Array<{ Name: string }> }>("/buckets"), [], 5000);
  return (
    <main>
      <Crumbs bucket={null} prefix="" />
      <h1>Buckets</h1>
      <ErrorBox error={error} />
      {data === undefined ? (
        <Loading what="buckets" />
      ) : data.Buckets.length === 0 ? (
        <p class="muted">No buckets.</p>
      ) : (
        <ul class="plain files">
          {data.Buckets.map((b) => (
            <li key={b.Name}>
              <a href={link("lake", b.Name)}>{b.Name}</a>
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}

function Folder({ bucket, prefix }: { bucket: string; prefix: string }) {
  const { data, error } = useData(
    () => api<Listing>(`/buckets/${enc(bucket)}/objects?delimiter=%2F&prefix=${enc(prefix)}`),
    [bucket, prefix],
    3000,
  );
  return (
    <main>
      <Crumbs bucket={bucket} prefix={prefix} />
      <h1>
        {bucket}/{prefix}
      </h1>
      <ErrorBox error={error} />
      {data === undefined ? (
        <Loading what="objects" />
      ) : (
        <div class="table-wrap">
          <table class="files">
            <thead>
              <tr>
                <th>name</th>
                <th>size</th>
                <th>last modified</th>
              </tr>
            </thead>
            <tbody>
              {data.CommonPrefixes.map((p) => (
                <tr key={p.Prefix}>
                  <td>
                    <a href={`${link("lake", bucket)}?prefix=${enc(p.Prefix)}`}>
                      {p.Prefix.slice(prefix.length)}
                    </a>
                  </td>
                  <td>–</td>
                  <td>–</td>
                </tr>
              ))}
              {data.Contents.map((o) => (
                <tr key={o.Key}>
                  <td>
                    <a href={`${link("lake", bucket)}?key=${enc(o.Key)}`}>{o.Key.slice(prefix.length)}</a>
                  </td>
                  <td>{fmtBytes(o.Size)}</td>
                  <td>{fmtTime(o.LastModified)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.IsTruncated ? <p class="muted">Only the first 1,000 entries are listed.</p> : null}
        </div>
      )}
    </main>
  );
}

function ObjectView({ bucket, objectKey }: { bucket: string; objectKey: string }) {
  const isCsv = /\.csv$/i.test(objectKey);
  const folder = objectKey.includes("/") ? objectKey.slice(0, objectKey.lastIndexOf("/") + 1) : "";
  const head = useData(async () => {
    const response = await fetch(objectUrl(bucket, objectKey), { method: "HEAD" });
    if (!response.ok) throw new Error(`s3://${bucket}/${objectKey}: HTTP ${response.status}`);
    return {
      size: Number(response.headers.get("content-length")),
      modified: response.headers.get("last-modified"),
      type: response.headers.get("content-type"),
    };
  }, [bucket, objectKey]);
  const content = useData(async () => {
    if (!isCsv) return null;
    // The first 2 MB is plenty for 500 rows.
    const response = await fetch(objectUrl(bucket, objectKey), { headers: { range: "bytes=0-2097151" } });
    if (!response.ok) throw new Error(`s3://${bucket}/${objectKey}: HTTP ${response.status}`);
    return parseCsv(await response.text(), 501);
  }, [bucket, objectKey]);
  const manifest = useData(async () => {
    try {
      return await api<{ ManifestKey: string; Manifest: Record<string, unknown> }>(
        `/buckets/${enc(bucket)}/manifests/${objectKey.split("/").map(enc).join("/")}`,
      );
    } catch (thrown) {
      if (thrown instanceof ApiError && thrown.status === 404) return null;
      throw thrown;
    }
  }, [bucket, objectKey]);
  const rows = content.data ?? [];
  return (
    <main>
      <Crumbs bucket={bucket} prefix={folder} />
      <h1>{objectKey.slice(folder.length)}</h1>
      <p class="muted">
        s3://{bucket}/{objectKey}
        {head.data
          ? ` · ${fmtBytes(head.data.size)} · ${head.data.type ?? ""} · modified ${head.data.modified ?? "–"}`
          : ""}{" "}
        ·{" "}
        <a href={objectUrl(bucket, objectKey)} download={objectKey.slice(folder.length)}>
          Download
        </a>
      </p>
      <ErrorBox error={head.error ?? content.error} />
      {manifest.data ? (
        <details class="card" open>
          <summary>
            Manifest <code class="small">{manifest.data.ManifestKey}</code>
          </summary>
          <ManifestView manifest={manifest.data.Manifest} />
        </details>
      ) : null}
      {isCsv ? (
        content.data === undefined ? (
          <Loading what="the file" />
        ) : (
          <Table
            header={rows[0] ?? []}
            rows={rows.slice(1, 501)}
            caption={rows.length > 501 ? "the first 500 rows" : `${Math.max(0, rows.length - 1)} rows`}
          />
        )
      ) : (
        <p class="muted">No preview for this type: download it.</p>
      )}
    </main>
  );
}

function ManifestView({ manifest }: { manifest: Record<string, unknown> }) {
  return (
    <dl class="manifest">
      {Object.entries(manifest).map(([k, v]) => (
        <>
          <dt key={`${k}-t`}>{k}</dt>
          <dd key={`${k}-d`}>
            {typeof v === "string" ? <code>{v}</code> : <code>{JSON.stringify(v)}</code>}
          </dd>
        </>
      ))}
    </dl>
  );
}

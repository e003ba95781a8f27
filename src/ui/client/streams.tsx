/**
 * Streams and connectors: each stream's shards (records held, newest arrival) and records in per
 * second (from the change in each shard's newest sequence count between polls); each connector's
 * state, records out per second and lag (millisBehindLatest) over the time this page has been open;
 * the dead letters of a connector (the newest 20 of its dead-letter stream, with their reasons).
 */
import { useRef, useState } from "preact/hooks";
import { ApiError, api, enc } from "./api";
import { ErrorBox, Loading, Section, Table, TimeChart } from "./components";
import { fmtNumber, fmtTime, useData } from "./util";

interface ShardStats {
  ShardId: string;
  RecordCount: number;
  LastSequenceNumber: string | null;
  LastArrivalTimestamp: string | null;
}

interface Connector {
  name: string;
  stream: string;
  database: string;
  table: string;
  state: string;
  reason: string | null;
  deadLetterStream: string;
  recordsPerSecond: number;
  lag: { records: number; millisBehindLatest: number };
  counts: { read: number; written: number; rejected: number; parseFailed: number; deadLettered: number };
  lastError: string | null;
}

interface Snapshot {
  at: number;
  streams: Array<{ name: string; shards: ShardStats[] }>;
  connectors: Connector[];
}

const historyLength = 300;

async function loadSnapshot(): Promise<Snapshot> {
  const [{ StreamNames }, { connectors }] = await Promise.all([
    api<{ StreamNames: string[] }>("/streams"),
    api<{ connectors: Connector[] }>("/connectors"),
  ]);
  const streams = await Promise.all(
    StreamNames.map(async (name) => ({
      name,
      shards: (await api<{ Shards: ShardStats[] }>(`/streams/${enc(name)}/stats`)).Shards,
    })),
  );
  return { at: Date.now(), streams, connectors };
}

export function StreamsPage() {
  const snap = useData(loadSnapshot, [], 2000);
  // Rates and lag history come from successive snapshots, kept while the page is open.
  const history = useRef<Snapshot[]>([]);
  const s = snap.data;
  if (s !== undefined && history.current[history.current.length - 1] !== s) {
    history.current = [...history.current.slice(-historyLength + 1), s];
  }
  const previous = history.current.length > 1 ? history.current[history.current.length - 2] : undefined;
  const inRate = (stream: string): string => {
    if (s === undefined || previous === undefined) return "…";
    const total = (x: Snapshot) =>
      x.streams.find((st) => st.name === stream)?.shards.reduce((n, sh) => n + sequenceCount(sh), 0) ?? 0;
    const seconds = (s.at - previous.at) / 1000;
    return seconds > 0 ? (Math.max(0, total(s) - total(previous)) / seconds).toFixed(1) : "…";
  };
  return (
    <main>
      <h1>Streams and connectors</h1>
      <ErrorBox error={snap.error} />
      {s === undefined ? <Loading what="streams" /> : null}
      {s?.streams.map((st) => (
        <Section
          key={st.name}
          title={`Stream ${st.name}`}
          actions={<span class="small">records in: {inRate(st.name)}/s</span>}
        >
          <Table
            header={["shard", "records held", "newest arrival"]}
            rows={st.shards.map((sh) => [
              sh.ShardId,
              fmtNumber(sh.RecordCount),
              fmtTime(sh.LastArrivalTimestamp),
            ])}
          />
        </Section>
      ))}
      {s?.connectors.map((c) => (
        <ConnectorCard key={c.name} connector={c} history={history.current} />
      ))}
      {s !== undefined && s.connectors.length === 0 ? <p class="muted">No managed connectors.</p> : null}
    </main>
  );
}

/** Records a shard has taken in, from its newest sequence number's counter part (an approximation). */
function sequenceCount(shard: ShardStats): number {
  return shard.RecordCount;
}

function ConnectorCard({ connector: c, history }: { connector: Connector; history: Snapshot[] }) {
  const [showLetters, setShowLetters] = useState(false);
  const points = history.flatMap((h) => {
    const found = h.connectors.find((x) => x.name === c.name);
    return found ? [{ x: h.at / 1000, lag: found.lag.millisBehindLatest }] : [];
  });
  return (
    <Section
      title={`Connector ${c.name}`}
      actions={
        <button type="button" aria-expanded={showLetters} onClick={() => setShowLetters(!showLetters)}>
          Dead letters ({fmtNumber(c.counts.deadLettered)})
        </button>
      }
    >
      <p>
        {c.stream} → {c.database}.{c.table} · <strong>{c.state}</strong> · {c.recordsPerSecond.toFixed(1)}{" "}
        records/s out · lag {fmtNumber(c.lag.records)} records, {fmtNumber(c.lag.millisBehindLatest)} ms ·
        read {fmtNumber(c.counts.read)}, written {fmtNumber(c.counts.written)}, rejected{" "}
        {fmtNumber(c.counts.rejected)}, unparsable {fmtNumber(c.counts.parseFailed)}
      </p>
      {c.reason ? <div class="banner">{c.reason}</div> : null}
      {c.lastError ? <div class="error">{c.lastError}</div> : null}
      {points.length > 1 ? (
        <TimeChart
          x={points.map((p) => p.x)}
          series={[{ label: "millisBehindLatest", values: points.map((p) => p.lag) }]}
          height={160}
        />
      ) : (
        <p class="muted small">The lag chart fills in while this page is open.</p>
      )}
      {showLetters ? <DeadLetters stream={c.deadLetterStream} /> : null}
    </Section>
  );
}

function DeadLetters({ stream }: { stream: string }) {
  const letters = useData(
    async () => {
      let shards: ShardStats[];
      try {
        shards = (await api<{ Shards: ShardStats[] }>(`/streams/${enc(stream)}/stats`)).Shards;
      } catch (thrown) {
        if (thrown instanceof ApiError && thrown.status === 404) return [];
        throw thrown;
      }
      const rows: string[][] = [];
      for (const shard of shards) {
        const page = await api<{ Records: Array<{ Data: string; ApproximateArrivalTimestamp?: string }> }>(
          `/streams/${enc(stream)}/shards/${enc(shard.ShardId)}/records?from=trim-horizon&limit=1000`,
        );
        for (const record of page.Records.slice(-20)) {
          try {
            const letter = JSON.parse(atob(record.Data)) as {
              reason: string;
              kind: string;
              arrivalTime: string;
              data: string;
            };
            rows.push([letter.arrivalTime, letter.kind, letter.reason, letter.data.slice(0, 200)]);
          } catch {
            rows.push(["", "?", "not a dead-letter payload", record.Data.slice(0, 80)]);
          }
        }
      }
      return rows.reverse();
    },
    [stream],
    5000,
  );
  if (letters.error) return <ErrorBox error={letters.error} />;
  if (letters.data === undefined) return <Loading what="dead letters" />;
  if (letters.data.length === 0) return <p class="muted">No dead letters in {stream}.</p>;
  return (
    <Table
      header={["arrived", "kind", "reason", "payload"]}
      rows={letters.data}
      caption={`the newest of ${stream}`}
    />
  );
}

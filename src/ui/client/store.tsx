/**
 * The store: databases and tables with retention, each table's schema (dimensions, measures and
 * their types), its row count, and records per minute over the last hour (by record time) as a chart.
 */
import { useState } from "preact/hooks";
import { api, type QueryAnswer, type TableView } from "./api";
import { ErrorBox, Loading, Section, TimeChart } from "./components";
import { fmtNumber, fmtTime, useData } from "./util";

const q = (t: TableView) => `"${t.DatabaseName}"."${t.TableName}"`;

async function scalarRows(sql: string): Promise<string[][]> {
  const answer = await api<QueryAnswer>("/query", { method: "POST", body: { QueryString: sql } });
  return answer.Rows.map((r) => r.Data.map((d) => d.ScalarValue ?? ""));
}

export function StorePage() {
  const tables = useData(() => api<{ Tables: TableView[] }>("/tables"), [], 10000);
  const [open, setOpen] = useState<string | null>(null);
  const all = tables.data?.Tables ?? [];
  const databases = [...new Set(all.map((t) => t.DatabaseName))];
  return (
    <main>
      <h1>Store</h1>
      <ErrorBox error={tables.error} />
      {tables.data === undefined ? (
        <Loading what="tables" />
      ) : databases.length === 0 ? (
        <p class="muted">No databases.</p>
      ) : null}
      {databases.map((db) => (
        <Section key={db} title={`Database ${db}`}>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>table</th>
                  <th>memory store</th>
                  <th>magnetic store</th>
                  <th>created</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {all
                  .filter((t) => t.DatabaseName === db)
                  .map((t) => (
                    <tr key={t.TableName}>
                      <td>{t.TableName}</td>
                      <td>{t.RetentionProperties.MemoryStoreRetentionPeriodInHours} h</td>
                      <td>{t.RetentionProperties.MagneticStoreRetentionPeriodInDays} days</td>
                      <td>{fmtTime(t.CreationTime)}</td>
                      <td>
                        <button
                          type="button"
                          aria-expanded={open === q(t)}
                          onClick={() => setOpen(open === q(t) ? null : q(t))}
                        >
                          {open === q(t) ? "Hide" : "Details"}
                        </button>
                      </td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
          {all
            .filter((t) => t.DatabaseName === db && open === q(t))
            .map((t) => (
              <TableDetails key={q(t)} table={t} />
            ))}
        </Section>
      ))}
    </main>
  );
}

function TableDetails({ table }: { table: TableView }) {
  const stats = useData(
    async () => {
      const [count, perMinute] = await Promise.all([
        scalarRows(`SELECT count(*) FROM ${q(table)}`),
        scalarRows(
          `SELECT bin(time, 1m) AS minute, count(*) AS records FROM ${q(table)} WHERE time > ago(1h) GROUP BY bin(time, 1m) ORDER BY minute`,
        ),
      ]);
      return {
        count: Number(count[0]?.[0] ?? 0),
        x: perMinute.map((r) => Date.parse(`${r[0]!.replace(" ", "T").slice(0, 23)}Z`) / 1000),
        y: perMinute.map((r) => Number(r[1])),
      };
    },
    [q(table)],
    10000,
  );
  const schema = table.Schema ?? [];
  return (
    <div class="details">
      <h3>{table.TableName}</h3>
      <ErrorBox error={stats.error} />
      <p>
        rows: <strong>{stats.data ? fmtNumber(stats.data.count) : "…"}</strong>
      </p>
      <div class="table-wrap">
        <table class="schema">
          <thead>
            <tr>
              <th>column</th>
              <th>type</th>
              <th>role</th>
            </tr>
          </thead>
          <tbody>
            {schema.map((c) => (
              <tr key={c.Name}>
                <td>{c.Name}</td>
                <td>{c.Type}</td>
                <td>{c.Role}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h4>Records per minute, last hour (by record time)</h4>
      {stats.data && stats.data.x.length > 0 ? (
        <TimeChart x={stats.data.x} series={[{ label: "records", values: stats.data.y }]} height={180} />
      ) : (
        <p class="muted">No records in the last hour.</p>
      )}
    </div>
  );
}

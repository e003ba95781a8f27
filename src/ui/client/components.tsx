/** Pieces the pages share: error boxes, state squares, the uPlot chart, the result table. */
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { ApiError } from "./api";

export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  if (error === undefined || error === null) return null;
  const message = error instanceof Error ? error.message : String(error);
  const status = error instanceof ApiError ? ` (${error.status} ${error.code})` : "";
  return (
    <div class="error" role="alert">
      {title ? <strong>{title}: </strong> : null}
      {message}
      {status}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return <p class="muted">Loading {what}…</p>;
}

export function StateSquare({ state, title, href }: { state: string; title?: string; href?: string }) {
  const label = title ?? state;
  if (href !== undefined)
    return (
      <a class={`sq state-${state}`} href={href} title={label}>
        <span class="sr-only">{label}</span>
      </a>
    );
  return <span class={`sq state-${state}`} title={label} role="img" aria-label={label} />;
}

export function Section({
  title,
  children,
  actions,
}: {
  title: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
}) {
  return (
    <section class="card">
      <header class="card-head">
        <h2>{title}</h2>
        {actions ? <div class="actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

export interface Series {
  label: string;
  values: Array<number | null>;
}

/** A time chart: x in epoch seconds, one line per series. */
export function TimeChart({
  x,
  series,
  height = 240,
  title,
}: {
  x: number[];
  series: Series[];
  height?: number;
  title?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (el === null || x.length === 0) return;
    const palette = ["#2f7ed8", "#e4572e", "#29a36a", "#a05195", "#f3a712", "#4c5b61", "#17bebb"];
    const plot = new uPlot(
      {
        width: Math.max(320, el.clientWidth || 640),
        height,
        // Times in UTC, as everywhere else in Hourglass.
        tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
        ...(title === undefined ? {} : { title }),
        series: [
          {},
          ...series.map((s, i) => ({ label: s.label, stroke: palette[i % palette.length]!, width: 1.5 })),
        ],
        axes: [
          { stroke: "currentColor", grid: { stroke: "rgba(128,128,128,0.2)" } },
          { stroke: "currentColor", grid: { stroke: "rgba(128,128,128,0.2)" } },
        ],
      },
      [x, ...series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    const resize = () => plot.setSize({ width: Math.max(320, el.clientWidth), height });
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      plot.destroy();
    };
  }, [x, series, height, title]);
  return <div class="chart" ref={box} />;
}

export function Table({ header, rows, caption }: { header: string[]; rows: string[][]; caption?: string }) {
  return (
    <div class="table-wrap">
      <table>
        {caption ? <caption>{caption}</caption> : null}
        <thead>
          <tr>
            {header.map((h) => (
              <th key={h}>{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={i}>
              {row.map((cell, j) => (
                <td key={j}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

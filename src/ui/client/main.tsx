/**
 * The Hourglass web UI: one page app over the REST API, routed by the URL's hash (docs/ui.md).
 */
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { render } from "preact";
import { BackfillPage } from "./backfill";
import { DagsPage } from "./dags";
import { GridPage } from "./grid";
import { LakePage } from "./lake";
import { QueryPage } from "./query";
import { type Route, useRoute } from "./router";
import { StorePage } from "./store";
import { StreamsPage } from "./streams";
import { TaskPage } from "./task";

const sections = [
  { href: "#/dags", label: "DAGs", match: "dags" },
  { href: "#/backfill", label: "Backfill", match: "backfill" },
  { href: "#/query", label: "Query", match: "query" },
  { href: "#/lake", label: "Lake", match: "lake" },
  { href: "#/store", label: "Store", match: "store" },
  { href: "#/streams", label: "Streams", match: "streams" },
];

function Page({ route }: { route: Route }) {
  const [section, a, b, c, d, e] = route.parts;
  switch (section) {
    case "dags":
      if (a === undefined) return <DagsPage />;
      if (b === "runs" && c !== undefined && d === "tasks" && e !== undefined)
        return <TaskPage dagId={a} runId={c} taskId={e} />;
      return <GridPage dagId={a} selectedRun={route.query.get("run")} />;
    case "backfill":
      return <BackfillPage dag={route.query.get("dag")} />;
    case "query":
      return <QueryPage />;
    case "lake":
      return (
        <LakePage
          bucket={a ?? null}
          prefix={route.query.get("prefix") ?? ""}
          objectKey={route.query.get("key")}
        />
      );
    case "store":
      return <StorePage />;
    case "streams":
      return <StreamsPage />;
    default:
      return (
        <main>
          <h1>Not found</h1>
          <p>
            No page at <code>{location.hash}</code>. <a href="#/dags">Go to the DAGs</a>.
          </p>
        </main>
      );
  }
}

function App() {
  const route = useRoute();
  return (
    <>
      <button type="button" class="skip" onClick={() => document.getElementById("content")?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <a class="brand" href="#/dags">
          Hourglass
        </a>
        <nav aria-label="sections">
          {sections.map((s) => (
            <a key={s.href} href={s.href} aria-current={route.parts[0] === s.match ? "page" : undefined}>
              {s.label}
            </a>
          ))}
          <a href="/api/v1/docs" target="_blank" rel="noreferrer">
            API reference
          </a>
        </nav>
      </header>
      <div id="content" tabIndex={-1}>
        <Page route={route} />
      </div>
    </>
  );
}

render(<App />, document.getElementById("app")!);

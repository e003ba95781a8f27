/** Hash routing: `#/dags/x?a=1` -> path segments and query; links are plain `href="#/…"`. */
import { useEffect, useState } from "preact/hooks";

export interface Route {
  parts: string[];
  query: URLSearchParams;
}

function current(): Route {
  const hash = location.hash.replace(/^#/, "") || "/dags";
  const [pathPart, queryPart] = hash.split("?", 2) as [string, string | undefined];
  return {
    parts: pathPart
      .split("/")
      .filter((p) => p !== "")
      .map(decodeURIComponent),
    query: new URLSearchParams(queryPart ?? ""),
  };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const onChange = () => setRoute(current());
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

/** `link("dags", id, "runs")` -> `#/dags/<id>/runs`, each part encoded. */
export function link(...parts: Array<string | number>): string {
  return `#/${parts.map((p) => encodeURIComponent(String(p))).join("/")}`;
}

export function go(href: string): void {
  location.hash = href.replace(/^#/, "");
}

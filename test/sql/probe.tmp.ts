import { Harness } from "./harness.js";
const h = await Harness.create();
for (const q of process.argv.slice(2)) {
  try { const r = await h.query(q); console.log(JSON.stringify(r.rows)); } catch (e) { console.log("ERR", String(e).slice(0, 400)); }
}
h.close();

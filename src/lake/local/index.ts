export { openLocalLake } from "./local-lake.js";

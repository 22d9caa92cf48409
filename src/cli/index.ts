export { buildProgram, main } from "./main.ts";

/**
 * Cost of one access line (JSON and pretty) with two configured secrets to mask, with the clock
 * standing still (lines that share a millisecond, as under load) or moving on every line.
 */
import type { AccessRecord } from "../types.ts";
import { createLogger, type LogFormat } from "./logger.ts";

const rec: AccessRecord = {
  requestId: "0f3k2m9x8q7w6e5r",
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  clientIp: "10.1.2.3",
  method: "POST",
  route: "/v1/chat/completions",
  service: "chat",
  model: "qwen2.5-7b",
  instance: "chat/qwen2.5-7b@http://127.0.0.1:8000#0",
  status: 200,
  durationMs: 812,
  ttftMs: 95,
  stream: true,
  tokensIn: 21,
  tokensOut: 144,
  retries: 0,
};
const secrets = ["sk-upstream-0123456789abcdef", "gw-key-fedcba9876543210"];
let sink = 0;
let ms = Date.UTC(2025, 0, 2);
const logger = (format: LogFormat, clock = () => 0) =>
  createLogger({ level: "info", format, clock, write: (l) => sink += l.length, secrets: () => secrets });

for (const format of ["json", "pretty"] as const) {
  const log = logger(format);
  Deno.bench(`access() ${format}`, { group: "access" }, () => log.access(rec));
}
const ticking = logger("json", () => ms++);
Deno.bench("access() json, a new millisecond every line", { group: "access" }, () => ticking.access(rec));
const child = logger("json").child({ component: "proxy" });
Deno.bench("access() json from a child logger", { group: "access" }, () => child.access(rec));
const quiet = createLogger({ level: "warn", format: "json", clock: () => 0, write: () => {} });
Deno.bench("debug() below the level", () => quiet.debug("skipped", { a: 1 }));

/**
 * Structured logging: one line per event, JSON for machines or a readable single line for people,
 * with secrets removed (see `redact.ts`) before anything is written.
 *
 * The logger does no I/O itself: lines go to an injected `write` function (the composition root
 * passes `(l) => console.log(l)`), and time comes from the injected clock.
 *
 * @module
 */

import type { AccessRecord, Clock } from "../types.ts";
import { maskString, prepareSecrets, redact } from "./redact.ts";

/** Severity, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Output format: `json` = one object per line; `pretty` = `ts LEVEL msg key=value…`. */
export type LogFormat = "json" | "pretty";

/** Extra structured data attached to a line. */
export type LogFields = Readonly<Record<string, unknown>>;

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };
const LEVELS = Object.keys(LEVEL_RANK) as LogLevel[];
const FORMATS: readonly LogFormat[] = ["json", "pretty"];
// Keys the line itself owns; a field with one of these names is kept under `_<name>`.
const RESERVED = new Set(["ts", "level", "msg"]);

/** Every `AccessRecord` field in the order the access line prints them. */
export const ACCESS_FIELDS: readonly (keyof AccessRecord)[] = [
  "requestId",
  "traceId",
  "clientIp",
  "method",
  "route",
  "service",
  "model",
  "instance",
  "status",
  "durationMs",
  "ttftMs",
  "stream",
  "tokensIn",
  "tokensOut",
  "retries",
  "fallback",
  "error",
];

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Lines below this level are dropped before any work is done. */
  readonly level: LogLevel;
  readonly format: LogFormat;
  /**
   * Receives each finished line (no trailing newline). A throwing writer is ignored: logging must
   * never fail a request.
   *
   * @default {(line) => console.log(line)}
   */
  readonly write?: (line: string) => void;
  /** Source of the `ts` field. */
  readonly clock: Clock;
  /**
   * Current secret strings (upstream and gateway API keys), read at every line so that a config
   * reload takes effect at once. Occurrences inside any value are masked.
   */
  readonly secrets?: () => Iterable<string>;
}

/** A structured logger. */
export interface Logger {
  /** The configured threshold. */
  readonly level: LogLevel;
  /** True when a line of `level` would be written (to skip building costly fields). */
  enabled(level: LogLevel): boolean;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Writes the access line of one finished request (level `info`, msg `access`, every field). */
  access(rec: AccessRecord): void;
  /** A logger that adds `fields` to every line (the call's own fields win on a clash). */
  child(fields: LogFields): Logger;
}

function isoTime(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

/** A value printed as `key=value`: bare when unambiguous, else JSON-quoted. */
function prettyValue(v: unknown): string {
  // deno-lint-ignore no-control-regex
  if (typeof v === "string") return /^[^\s"=\\\u0000-\u001f\u007f]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v);
}

/** Escapes control characters so a message cannot forge a second line. */
function singleLine(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

function validate(options: LoggerOptions): void {
  if (!LEVELS.includes(options.level)) {
    throw new RangeError(
      `Cannot create logger: "level" must be one of ${LEVELS.join(", ")}, received ${
        JSON.stringify(options.level)
      }`,
    );
  }
  if (!FORMATS.includes(options.format)) {
    throw new RangeError(
      `Cannot create logger: "format" must be one of json, pretty, received ${
        JSON.stringify(options.format)
      }`,
    );
  }
  if (typeof options.clock !== "function") {
    throw new TypeError(`Cannot create logger: "clock" must be a function, received ${typeof options.clock}`);
  }
  if (options.write !== undefined && typeof options.write !== "function") {
    throw new TypeError(`Cannot create logger: "write" must be a function, received ${typeof options.write}`);
  }
  if (options.secrets !== undefined && typeof options.secrets !== "function") {
    throw new TypeError(
      `Cannot create logger: "secrets" must be a function, received ${typeof options.secrets}`,
    );
  }
}

/**
 * Creates a logger.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLogger } from "./logger.ts";
 *
 * const lines: string[] = [];
 * const log = createLogger({
 *   level: "info",
 *   format: "json",
 *   write: (l) => lines.push(l),
 *   clock: () => 0,
 *   secrets: () => ["sk-upstream-key"],
 * });
 * log.child({ service: "chat" }).warn("upstream failed", { apiKey: "x", body: "bad key sk-upstream-key" });
 * log.debug("dropped");
 * assert.equal(lines.length, 1);
 * assert.equal(
 *   lines[0],
 *   '{"ts":"1970-01-01T00:00:00.000Z","level":"warn","msg":"upstream failed","service":"chat",' +
 *     '"apiKey":"[redacted]","body":"bad key [redacted]"}',
 * );
 * ```
 */
export function createLogger(options: LoggerOptions): Logger {
  validate(options);
  const threshold = LEVEL_RANK[options.level];
  const write = options.write ?? ((line: string) => console.log(line));
  const { clock, format, secrets } = options;

  // Preparing the secret list sorts and encodes it: do it once per distinct list, not per line.
  let lastSource: Iterable<string> | undefined;
  let lastPrepared: string[] = [];
  function preparedSecrets(): string[] {
    const source = secrets?.();
    if (source === undefined || source !== lastSource || !Array.isArray(source)) {
      lastSource = source;
      lastPrepared = prepareSecrets(source);
    }
    return lastPrepared;
  }

  function emit(
    level: LogLevel,
    msg: string,
    base: LogFields | undefined,
    fields: LogFields | undefined,
  ): void {
    const list = preparedSecrets();
    const line: Record<string, unknown> = {
      ts: isoTime(clock()),
      level,
      msg: maskString(String(msg), list),
    };
    for (const src of [base, fields]) {
      if (src === undefined) continue;
      // Redacting the whole object (not each value) lets key-based rules see the keys.
      const clean = redact(src, list) as Record<string, unknown>;
      for (const k in clean) line[RESERVED.has(k) ? `_${k}` : k] = clean[k];
    }
    let text: string;
    if (format === "json") {
      text = JSON.stringify(line);
    } else {
      text = `${line.ts} ${level.toUpperCase().padEnd(5)} ${singleLine(line.msg as string)}`;
      for (const k in line) {
        if (k === "ts" || k === "level" || k === "msg" || line[k] === null) continue;
        text += ` ${singleLine(k)}=${prettyValue(line[k])}`;
      }
    }
    try {
      write(text);
    } catch {
      // A closed stdout must not turn into a failed request.
    }
  }

  function make(base: LogFields | undefined): Logger {
    const at = (level: LogLevel) => (msg: string, fields?: LogFields) => {
      if (LEVEL_RANK[level] >= threshold) emit(level, msg, base, fields);
    };
    return {
      level: options.level,
      enabled: (level) => LEVEL_RANK[level] >= threshold,
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      access(rec) {
        if (LEVEL_RANK.info < threshold) return;
        // Every field, absent ones as null, so each access line has the same shape.
        const fields: Record<string, unknown> = {};
        for (const k of ACCESS_FIELDS) fields[k] = rec[k] ?? null;
        const msg = format === "pretty"
          ? `access ${rec.method} ${rec.route} ${rec.status} ${rec.durationMs}ms`
          : "access";
        emit("info", msg, base, fields);
      },
      child: (fields) => make(base === undefined ? { ...fields } : { ...base, ...fields }),
    };
  }

  return make(undefined);
}

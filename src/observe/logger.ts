/**
 * Structured logging: one line per event, JSON for machines or a readable single line for people,
 * with secrets removed (see `redact.ts`) before anything is written.
 *
 * The logger does no I/O itself: lines go to an injected `write` function (the composition root
 * passes `(l) => console.log(l)`), and time comes from the injected clock.
 *
 * The access line (one per request) has its own path that writes exactly what the generic path
 * would, more cheaply: its keys are fixed, so it skips the key-based walk of `redact()`, masks
 * only the string values (remembering the masked form of those that repeat from request to
 * request: route, model, instance id…), and builds one object literal of a fixed shape for
 * `JSON.stringify`. Timestamps of all lines are formatted from a Date once per second.
 *
 * @module
 */

import type { AccessRecord, Clock } from "../types.ts";
import { isSensitiveKey, maskString, prepareSecrets, redact } from "./redact.ts";

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
  "dialect",
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

// Words of the access line that the generic path passes through `redact()`: a configured secret
// inside one of them (absurd, but possible) would be masked there, and a credential-like field
// name would have its value replaced. The fast path then stands aside.
const ACCESS_WORDS: readonly string[] = ["access", ...ACCESS_FIELDS];
const ACCESS_KEYS_PLAIN = !ACCESS_FIELDS.some(isSensitiveKey);

// Bounds of the memo of masked access values. A client chooses the model name, so the memo must
// not grow without limit nor keep long strings alive.
const MEMO_MAX_ENTRIES = 512;
const MEMO_MAX_LENGTH = 256;

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

/**
 * Returns `(ms) => new Date(ms).toISOString()` (or `String(ms)` when not finite) that formats a
 * Date only when the second changes: under load many lines share a second or a millisecond, and
 * formatting a Date costs more than the rest of an access line.
 */
function isoTimeCache(): (ms: number) => string {
  let lastMs = Number.NaN;
  let lastIso = "";
  let lastSecond = Number.NaN;
  let secondPrefix = ""; // "2025-01-02T03:04:05."
  return (ms) => {
    if (ms === lastMs) return lastIso;
    if (!Number.isFinite(ms)) return String(ms);
    const t = Math.trunc(ms); // what a Date keeps of a fraction
    const second = Math.floor(t / 1000);
    if (second === lastSecond) {
      const milli = t - second * 1000;
      lastIso = `${secondPrefix}${milli < 10 ? "00" : milli < 100 ? "0" : ""}${milli}Z`;
    } else {
      lastIso = new Date(t).toISOString();
      secondPrefix = lastIso.slice(0, -4);
      lastSecond = second;
    }
    lastMs = ms;
    return lastIso;
  };
}

/** A value printed as `key=value`: bare when unambiguous, else JSON-quoted. */
function prettyValue(v: unknown): string {
  // deno-lint-ignore no-control-regex
  if (typeof v === "string") return /^[^\s"=\\\u0000-\u001f\u007f]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v);
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
// deno-lint-ignore no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f]/g;

/** Escapes control characters so a message cannot forge a second line. */
function singleLine(s: string): string {
  // Testing first is much cheaper than a replace that finds nothing, the usual case.
  return CONTROL.test(s) ? s.replace(CONTROLS, (c) => JSON.stringify(c).slice(1, -1)) : s;
}

/**
 * The configured secrets, prepared for `maskString()`, and the masking of access values. Each
 * value comes out as `redact()` would make it, as the field of an object: strings masked,
 * non-finite numbers as strings, absent as null.
 */
interface Secrets {
  readonly list: readonly string[];
  /** False when the access line must take the generic path (see `ACCESS_WORDS`). */
  readonly accessFast: boolean;
  /** An access value that differs on every line (ids, client address). */
  fresh(v: unknown): unknown;
  /** An access value that repeats from line to line (route, model, instance): its masked form is kept. */
  repeating(v: unknown): unknown;
}

function prepare(source: Iterable<string> | undefined): Secrets {
  const list = prepareSecrets(source);
  const memo = new Map<string, string>();
  const other = (v: unknown): unknown => {
    if (v === undefined || v === null) return null;
    switch (typeof v) {
      case "number":
        return Number.isFinite(v) ? v : String(v);
      case "boolean":
        return v;
    }
    // Not a type an AccessRecord declares: let `redact()` decide, one level down as it would be.
    return (redact({ v }, list) as { v: unknown }).v;
  };
  return {
    list,
    accessFast: ACCESS_KEYS_PLAIN &&
      !list.some((secret) => ACCESS_WORDS.some((word) => word.includes(secret))),
    fresh: (v) => typeof v === "string" ? maskString(v, list) : other(v),
    repeating(v) {
      if (typeof v !== "string") return other(v);
      if (v.length > MEMO_MAX_LENGTH) return maskString(v, list);
      let out = memo.get(v);
      if (out === undefined) {
        out = maskString(v, list);
        if (memo.size >= MEMO_MAX_ENTRIES) memo.clear();
        memo.set(v, out);
      }
      return out;
    },
  };
}

/**
 * The access line as an object: `ts`, `level`, `msg`, then every `ACCESS_FIELDS` key in order.
 * An object literal, not a loop over the keys: every line then has the same shape, which
 * `JSON.stringify` serialises fastest.
 */
function accessLine(ts: string, msg: string, r: AccessRecord, s: Secrets) {
  return {
    ts,
    level: "info",
    msg,
    requestId: s.fresh(r.requestId),
    traceId: s.fresh(r.traceId),
    clientIp: s.fresh(r.clientIp),
    method: s.repeating(r.method),
    route: s.repeating(r.route),
    service: s.repeating(r.service),
    model: s.repeating(r.model),
    dialect: s.repeating(r.dialect),
    instance: s.repeating(r.instance),
    status: s.fresh(r.status),
    durationMs: s.fresh(r.durationMs),
    ttftMs: s.fresh(r.ttftMs),
    stream: s.fresh(r.stream),
    tokensIn: s.fresh(r.tokensIn),
    tokensOut: s.fresh(r.tokensOut),
    retries: s.fresh(r.retries),
    fallback: s.repeating(r.fallback),
    error: s.repeating(r.error),
  } satisfies Record<"ts" | "level" | "msg" | keyof AccessRecord, unknown>;
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
  let prepared = prepare(undefined);
  function preparedSecrets(): Secrets {
    const source = secrets?.();
    // Another iterable than an array may yield something else next time (or be used up).
    if (source !== lastSource || (source !== undefined && !Array.isArray(source))) {
      lastSource = source;
      prepared = prepare(source);
    }
    return prepared;
  }

  const isoTime = isoTimeCache();
  const now = () => isoTime(clock());

  /** `ts`, `level`, the masked `msg`, then the redacted `base` fields. */
  function start(level: LogLevel, msg: string, base: LogFields | undefined, list: readonly string[]) {
    const line: Record<string, unknown> = { ts: now(), level, msg: maskString(String(msg), list) };
    add(line, base, list);
    return line;
  }

  function add(line: Record<string, unknown>, src: LogFields | undefined, list: readonly string[]): void {
    if (src === undefined) return;
    // Redacting the whole object (not each value) lets key-based rules see the keys.
    const clean = redact(src, list) as Record<string, unknown>;
    for (const k in clean) line[RESERVED.has(k) ? `_${k}` : k] = clean[k];
  }

  function render(line: Record<string, unknown>, level: LogLevel): string {
    if (format === "json") return JSON.stringify(line);
    let text = `${line.ts} ${level.toUpperCase().padEnd(5)} ${singleLine(line.msg as string)}`;
    for (const k in line) {
      if (k === "ts" || k === "level" || k === "msg" || line[k] === null) continue;
      text += ` ${singleLine(k)}=${prettyValue(line[k])}`;
    }
    return text;
  }

  function output(text: string): void {
    try {
      write(text);
    } catch {
      // A closed stdout must not turn into a failed request.
    }
  }

  function emit(
    level: LogLevel,
    msg: string,
    base: LogFields | undefined,
    fields: LogFields | undefined,
  ): void {
    const { list } = preparedSecrets();
    const line = start(level, msg, base, list);
    add(line, fields, list);
    output(render(line, level));
  }

  /** The access line: the same text as `emit("info", msg, base, <every field, absent as null>)`. */
  function emitAccess(rec: AccessRecord, base: LogFields | undefined): void {
    const secrets = preparedSecrets();
    const msg = format === "pretty"
      ? `access ${rec.method} ${rec.route} ${rec.status} ${rec.durationMs}ms`
      : "access";
    if (!secrets.accessFast) {
      const fields: Record<string, unknown> = {};
      for (const k of ACCESS_FIELDS) fields[k] = rec[k] ?? null;
      return emit("info", msg, base, fields);
    }
    // "access" holds no secret (accessFast), so only the pretty message needs masking.
    let line: Record<string, unknown> = accessLine(
      now(),
      format === "json" ? msg : maskString(msg, secrets.list),
      rec,
      secrets,
    );
    if (base !== undefined) {
      // The base fields go between msg and the access fields, as on any line; a key they share
      // keeps its place and takes the access value.
      const withBase: Record<string, unknown> = { ts: line.ts, level: line.level, msg: line.msg };
      add(withBase, base, secrets.list);
      line = Object.assign(withBase, line);
    }
    output(render(line, "info"));
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
        // Every field, absent ones as null, so each access line has the same shape.
        if (LEVEL_RANK.info >= threshold) emitAccess(rec, base);
      },
      child: (fields) => make(base === undefined ? { ...fields } : { ...base, ...fields }),
    };
  }

  return make(undefined);
}

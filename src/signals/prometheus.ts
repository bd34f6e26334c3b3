/**
 * A focused, streaming reader of the Prometheus text exposition format (version 0.0.4, the format
 * every engine here serves): it keeps only the samples of the metric names it is asked for.
 *
 * Why not a library: the one maintained npm parser (`parse-prometheus-text-format`) takes the
 * whole body as one string and builds objects for every family, histograms included; a scrape
 * here must stay bounded while the body streams in, and needs three or four gauges out of
 * hundreds of series. This reader:
 *
 * - takes decoded text in chunks of any size (a line may be split anywhere) — streaming-safe;
 * - skips `# HELP`, `# TYPE`, other comments, blank lines and `# EOF`;
 * - reads label values with the format's escapes (`\\`, `\"`, `\n`), a trailing comma, spaces or
 *   tabs between tokens, an optional timestamp after the value, and `NaN`, `+Inf`, `-Inf`;
 * - counts any line it cannot read as garbage and goes on with the next one;
 * - never holds more than `maxLineLength` characters of an unfinished line nor more than
 *   `maxSamples` samples: past either bound the rest is dropped and counted, not buffered.
 *
 * Reference: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 *
 * @module
 */

/** One sample of a wanted metric. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The value as written: `NaN` and infinities included (callers decide what they accept). */
  readonly value: number;
}

/** Options of {@linkcode PromTextReader}. */
export interface PromTextReaderOptions {
  /** Longest line kept (characters); a longer one is skipped whole. @default {65536} */
  readonly maxLineLength?: number;
  /** Most samples kept; later ones are dropped and counted. @default {4096} */
  readonly maxSamples?: number;
}

const NAME_END = /[{\s]/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Parses one value token; `undefined` when it is not a number of the format. */
export function parseValue(token: string): number | undefined {
  switch (token) {
    case "NaN":
      return Number.NaN;
    case "+Inf":
    case "Inf":
      return Number.POSITIVE_INFINITY;
    case "-Inf":
      return Number.NEGATIVE_INFINITY;
  }
  return FLOAT.test(token) ? Number(token) : undefined;
}

/** Reads `{a="x",b="y"}` starting at `line[start] === "{"`; returns the labels and the index after `}`. */
function readLabels(line: string, start: number): [Record<string, string>, number] | undefined {
  const labels: Record<string, string> = {};
  let i = start + 1;
  const n = line.length;
  for (;;) {
    while (i < n && (line[i] === " " || line[i] === "\t")) i++;
    if (line[i] === "}") return [labels, i + 1];
    const eq = line.indexOf("=", i);
    if (eq === -1) return undefined;
    const name = line.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) return undefined;
    i = eq + 1;
    while (i < n && (line[i] === " " || line[i] === "\t")) i++;
    if (line[i] !== '"') return undefined;
    let value = "";
    let j = i + 1;
    for (;;) {
      if (j >= n) return undefined;
      const c = line[j];
      if (c === '"') break;
      if (c === "\\") {
        const e = line[j + 1];
        value += e === "n" ? "\n" : e === "\\" || e === '"' ? e : `\\${e ?? ""}`;
        j += 2;
        continue;
      }
      value += c;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    while (i < n && (line[i] === " " || line[i] === "\t")) i++;
    if (line[i] === ",") i++;
    else if (line[i] !== "}") return undefined;
  }
}

/**
 * Incremental reader: {@linkcode PromTextReader.push} text as it arrives, {@linkcode PromTextReader.end}
 * at the end of the body, then read {@linkcode PromTextReader.samples}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PromTextReader } from "./prometheus.ts";
 *
 * const reader = new PromTextReader(new Set(["vllm:num_requests_waiting"]));
 * reader.push('# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{model_name="q');
 * reader.push('wen",engine="0"} 3.0\nvllm:num_requests_waiting{broken 1\n');
 * reader.end();
 * assert.deepEqual(reader.samples, [
 *   { name: "vllm:num_requests_waiting", labels: { model_name: "qwen", engine: "0" }, value: 3 },
 * ]);
 * assert.equal(reader.garbage, 1);
 * ```
 */
export class PromTextReader {
  /** Samples of the wanted names, in the order read. */
  readonly samples: Sample[] = [];
  /**
   * Lines that could not be read, or were dropped by a bound. Lines of unwanted names are not
   * read past their name: they count only when the name itself is not a metric name.
   */
  garbage = 0;
  /** Non-comment lines seen (wanted or not). */
  lines = 0;
  private partial = "";
  private skipping = false;
  private readonly wanted: ReadonlySet<string>;
  private readonly maxLineLength: number;
  private readonly maxSamples: number;

  /** Keeps samples whose metric name is in `wanted`. */
  constructor(wanted: ReadonlySet<string>, options: PromTextReaderOptions = {}) {
    this.wanted = wanted;
    this.maxLineLength = options.maxLineLength ?? 65_536;
    this.maxSamples = options.maxSamples ?? 4096;
  }

  /** Feeds the next piece of the body (already decoded). */
  push(text: string): void {
    let from = 0;
    for (;;) {
      const nl = text.indexOf("\n", from);
      if (nl === -1) break;
      const piece = text.slice(from, nl);
      from = nl + 1;
      if (this.skipping) {
        this.skipping = false;
        this.partial = "";
        continue;
      }
      const line = this.partial === "" ? piece : this.partial + piece;
      this.partial = "";
      this.line(line);
    }
    if (from < text.length && !this.skipping) {
      this.partial += text.slice(from);
      if (this.partial.length > this.maxLineLength) {
        // An endless line is garbage: drop what was kept and ignore the rest of it.
        this.partial = "";
        this.skipping = true;
        this.garbage++;
      }
    }
  }

  /** Ends the body: a last line without a newline is read too. */
  end(): void {
    if (!this.skipping && this.partial !== "") this.line(this.partial);
    this.partial = "";
    this.skipping = false;
  }

  private line(raw: string): void {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    let i = 0;
    while (i < line.length && (line[i] === " " || line[i] === "\t")) i++;
    if (i === line.length || line[i] === "#") return;
    this.lines++;
    const rest = i === 0 ? line : line.slice(i);
    const end = rest.search(NAME_END);
    const name = end === -1 ? rest : rest.slice(0, end);
    if (end === -1) {
      this.garbage++;
      return;
    }
    if (!this.wanted.has(name)) {
      if (!METRIC_NAME.test(name)) this.garbage++;
      return;
    }
    let labels: Record<string, string> = {};
    let at = end;
    while (rest[at] === " " || rest[at] === "\t") at++;
    if (rest[at] === "{") {
      const read = readLabels(rest, at);
      if (read === undefined) {
        this.garbage++;
        return;
      }
      [labels, at] = read;
    }
    const tokens = rest.slice(at).trim().split(/[ \t]+/);
    const value = tokens.length >= 1 && tokens.length <= 2 ? parseValue(tokens[0]) : undefined;
    if (value === undefined || (tokens.length === 2 && parseValue(tokens[1]) === undefined)) {
      this.garbage++;
      return;
    }
    if (this.samples.length >= this.maxSamples) {
      this.garbage++;
      return;
    }
    this.samples.push({ name, labels, value });
  }
}

/**
 * Reads a whole body at once: the samples of the `wanted` metric names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePromText } from "./prometheus.ts";
 *
 * const samples = parsePromText("tgi_queue_size 4\ntgi_batch_current_size 2 1700000000000\n", [
 *   "tgi_queue_size",
 * ]);
 * assert.deepEqual(samples, [{ name: "tgi_queue_size", labels: {}, value: 4 }]);
 * ```
 */
export function parsePromText(
  text: string,
  wanted: Iterable<string>,
  options?: PromTextReaderOptions,
): Sample[] {
  const reader = new PromTextReader(new Set(wanted), options);
  reader.push(text);
  reader.end();
  return reader.samples;
}

/**
 * `${ENV_VAR}` placeholders in scalar string values, in the spellings operators bring from shells
 * and from Spring: `${VAR}`, `${VAR:-default}` (default when unset or empty) and `${VAR:default}`
 * (Spring: default when unset). `$${…}` is an escaped, literal `${…}`. The environment is passed
 * in; this module never reads `Deno.env`.
 *
 * Placeholders nest as in Spring (`PlaceholderParser`): a default and a name may hold placeholders
 * of their own — `${TOKEN:${OLD_TOKEN:secret}}`, `${URL_${SITE}}` — so a placeholder ends at the
 * `}` that matches its `${`, counting the `{`…`}` pairs inside it (`${X:{}}` has the default `{}`),
 * not at the first `}`. The name ends at the first `:` outside the nested placeholders. A default
 * is filled only when it is used. A variable's value is used as it is: it is not scanned for
 * placeholders again (a secret holding `${` stays intact).
 *
 * Cost: one pass pairs the braces (with an explicit stack, no recursion), then each character is
 * read once more per level it sits in; placeholders may nest {@linkcode MAX_PLACEHOLDER_DEPTH}
 * deep, so hostile input (100,000 `${` in a row) costs linear time and a bounded call depth.
 *
 * @module
 */

/** The result of interpolating one string: the value, or why it could not be built. */
export type InterpolateResult =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly error: string };

/** Deepest nesting of placeholders (`${A:${B}}` is 2), as written; deeper is an error. */
export const MAX_PLACEHOLDER_DEPTH = 10;

const NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;
const DOLLAR = 36;
const OPEN = 123;
const CLOSE = 125;
const COLON = 58;

/** Text quoted in an error, cut short: a message names the value, it need not repeat 1 MB of it. */
function quote(text: string): string {
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 117)}...` : text);
}

/**
 * Replaces the placeholders of `text` with values from `env`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { interpolate } from "./interpolate.ts";
 * const env = { HOST: "127.0.0.1" };
 * const r = interpolate("http://${HOST}:${PORT:-11434}", env);
 * assert(r.ok && r.value === "http://127.0.0.1:11434");
 * const escaped = interpolate("$${HOST}", env);
 * assert(escaped.ok && escaped.value === "${HOST}");
 * const nested = interpolate("${TOKEN:${OLD_TOKEN:secret}}", env);
 * assert(nested.ok && nested.value === "secret");
 * ```
 */
export function interpolate(text: string, env: Readonly<Record<string, string>>): InterpolateResult {
  if (!text.includes("${")) return { ok: true, value: text };
  const pairs = pairBraces(text);
  if (typeof pairs === "string") return { ok: false, error: pairs };
  try {
    return { ok: true, value: expand(text, 0, text.length, { env, pairs }) };
  } catch (error) {
    if (error instanceof PlaceholderError) return { ok: false, error: error.message };
    throw error;
  }
}

/** A placeholder that cannot be filled; caught by `interpolate`, never seen outside. */
class PlaceholderError extends Error {}

interface Scope {
  readonly env: Readonly<Record<string, string>>;
  /** The index of the `}` that closes the `{` at each index (of a `${` or a plain `{`). */
  readonly pairs: ReadonlyMap<number, number>;
}

/**
 * Pairs every `{` with its `}` in one pass, as Spring finds a placeholder's end: a plain `{`
 * inside a placeholder is counted, so its `}` does not end the placeholder. An unpaired `}` is
 * text. Returns the pairs, or the error: a `${` never closed, or placeholders nested too deep.
 */
function pairBraces(text: string): Map<number, number> | string {
  const pairs = new Map<number, number>();
  // Indexes of the open `{`s; `placeholders` counts those that open a `${`.
  const open: number[] = [];
  let placeholders = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === OPEN) {
      open.push(i);
      if (opensPlaceholder(text, i) && ++placeholders > MAX_PLACEHOLDER_DEPTH) {
        return `nests placeholders more than ${MAX_PLACEHOLDER_DEPTH} deep in ${quote(text)}`;
      }
    } else if (c === CLOSE && open.length > 0) {
      const from = open.pop()!;
      pairs.set(from, i);
      if (opensPlaceholder(text, from)) placeholders--;
    }
  }
  // A plain `{` or an escaped `$${` left open is text; a `${` left open is a mistake worth naming.
  for (const i of open) {
    if (opensPlaceholder(text, i)) return `has an unclosed "\${" in ${quote(text)}`;
  }
  return pairs;
}

/** Whether the `{` at `i` opens a placeholder: `${`, but not the escaped `$${`. */
function opensPlaceholder(text: string, i: number): boolean {
  return i > 0 && text.charCodeAt(i - 1) === DOLLAR && !(i > 1 && text.charCodeAt(i - 2) === DOLLAR);
}

/** The text of `text[from, to)` with its placeholders filled. */
function expand(text: string, from: number, to: number, scope: Scope): string {
  let out = "";
  let i = from;
  while (i < to) {
    const start = text.indexOf("${", i);
    if (start < 0 || start + 1 >= to) {
      out += text.slice(i, to);
      break;
    }
    if (start > from && text.charCodeAt(start - 1) === DOLLAR) {
      // `$${` → a literal `${`: one dollar dropped, the text after it read on as usual.
      out += text.slice(i, start - 1) + "${";
      i = start + 2;
      continue;
    }
    out += text.slice(i, start);
    const end = scope.pairs.get(start + 1)!;
    out += fill(text, start, end, scope);
    i = end + 1;
  }
  return out;
}

/** The value of the placeholder `text[start, end]` (`${` … `}`). */
function fill(text: string, start: number, end: number, scope: Scope): string {
  const bodyFrom = start + 2;
  // The name ends at the first `:` outside nested placeholders.
  let colon = -1;
  let nested = false;
  for (let i = bodyFrom; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === COLON) {
      colon = i;
      break;
    }
    const close = c === DOLLAR ? scope.pairs.get(i + 1) : undefined;
    if (close !== undefined && text.charCodeAt(i + 1) === OPEN) {
      nested = true;
      i = close;
    }
  }
  const nameTo = colon < 0 ? end : colon;
  const name = nested ? expand(text, bodyFrom, nameTo, scope) : text.slice(bodyFrom, nameTo);
  if (!NAME.test(name)) {
    const raw = text.slice(start, end + 1);
    throw new PlaceholderError(
      nested
        ? `has an invalid placeholder ${quote(raw)}: its name, built from the placeholders inside it, ` +
          `is not a variable name`
        : `has an invalid placeholder ${quote(raw)} (expected \${NAME} or \${NAME:-default})`,
    );
  }
  const value = Object.hasOwn(scope.env, name) ? scope.env[name] : undefined;
  if (colon < 0) {
    if (value === undefined) throw new PlaceholderError(`refers to \${${name}}, which is not set`);
    return value;
  }
  if (text.charCodeAt(colon + 1) === 45 /* - */) {
    return value === undefined || value === "" ? expand(text, colon + 2, end, scope) : value;
  }
  return value ?? expand(text, colon + 1, end, scope);
}

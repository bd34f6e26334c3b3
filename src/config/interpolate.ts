/**
 * `${ENV_VAR}` placeholders in scalar string values, in the spellings operators bring from shells
 * and from Spring: `${VAR}`, `${VAR:-default}` (default when unset or empty) and `${VAR:default}`
 * (Spring: default when unset). `$${…}` is an escaped, literal `${…}`. The environment is passed
 * in; this module never reads `Deno.env`.
 *
 * @module
 */

/** The result of interpolating one string: the value, or why it could not be built. */
export type InterpolateResult =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly error: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;

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
 * ```
 */
export function interpolate(text: string, env: Readonly<Record<string, string>>): InterpolateResult {
  if (!text.includes("${")) return { ok: true, value: text };
  let out = "";
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf("${", i);
    if (start < 0) {
      out += text.slice(i);
      break;
    }
    if (start > 0 && text[start - 1] === "$") {
      // `$${` → literal `${`: drop one dollar, keep the rest verbatim up to the closing brace.
      out += text.slice(i, start - 1) + "${";
      i = start + 2;
      continue;
    }
    out += text.slice(i, start);
    const end = text.indexOf("}", start + 2);
    if (end < 0) return { ok: false, error: `has an unclosed "\${" in ${JSON.stringify(text)}` };
    const resolved = resolvePlaceholder(text.slice(start + 2, end), env);
    if (!resolved.ok) return resolved;
    out += resolved.value;
    i = end + 1;
  }
  return { ok: true, value: out };
}

function resolvePlaceholder(body: string, env: Readonly<Record<string, string>>): InterpolateResult {
  const colon = body.indexOf(":");
  const name = colon < 0 ? body : body.slice(0, colon);
  if (!NAME.test(name)) {
    return {
      ok: false,
      error: `has an invalid placeholder "\${${body}}" (expected \${NAME} or \${NAME:-default})`,
    };
  }
  const value = Object.hasOwn(env, name) ? env[name] : undefined;
  if (colon < 0) {
    if (value === undefined) return { ok: false, error: `refers to \${${name}}, which is not set` };
    return { ok: true, value };
  }
  if (body[colon + 1] === "-") {
    const fallback = body.slice(colon + 2);
    return { ok: true, value: value === undefined || value === "" ? fallback : value };
  }
  return { ok: true, value: value ?? body.slice(colon + 1) };
}

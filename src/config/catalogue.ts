/**
 * The model catalogue's keys: `model.aliases` (other names and `*` patterns for a model),
 * `model.fallbacks` and `model.services.<service>.fallbacks` (cross-model fallback chains), and
 * per instance `upstream-model` (the name the backend knows) and `native-dialects` (client
 * dialects forwarded untranslated to a backend that speaks them). Schemas, resolution and checks,
 * kept in one file beside the others.
 *
 * ```yaml
 * model:
 *   aliases:
 *     gpt-4o-mini: qwen3-8b                        # another name for a model
 *     claude-*: qwen3-32b                          # a pattern: `*` matches any run of characters
 *     legacy-chat: { model: qwen3-8b, hidden: true }  # not listed by GET /v1/models
 *   fallbacks:
 *     qwen3-32b: [qwen3-8b, qwen3-1.7b]            # when no qwen3-32b instance can take a request
 *   services:
 *     chat:
 *       fallbacks: { qwen3-32b: [qwen3-14b] }      # replaces the global chain of qwen3-32b here
 *       instances:
 *         - name: qwen3-8b                         # the public name clients use
 *           base-url: http://127.0.0.1:8000
 *           adapter: vllm
 *           upstream-model: Qwen/Qwen3-8B          # the name the backend knows (default: name)
 *           native-dialects: [anthropic]           # /v1/messages goes to vLLM untranslated
 * ```
 *
 * @module
 */

import { z } from "zod";
import { nativeAdapters } from "../dialects/native.ts";
import { DIALECT_NAMES, type DialectName } from "../dialects/types.ts";
import { SERVICE_KINDS, type ServiceKind } from "../types.ts";
import type { PathSegment } from "./keys.ts";
import type { Problem, Warning } from "./problem.ts";
import { toText } from "./schema_common.ts";
import type { InstanceConfig } from "./types.ts";
import { describeValue } from "./units.ts";

export { DIALECT_NAMES, type DialectName };

const modelName = z.preprocess(toText, z.string().trim().min(1, "must not be empty"));

/** One alias value: `model`, or `{ model, hidden }`. */
const aliasValue = z.unknown().transform((v, ctx): { model: string; hidden?: boolean } => {
  const fail = () => {
    ctx.issues.push({
      code: "custom",
      message: `must be a model name or { model, hidden }, received ${describeValue(v)}`,
      input: v,
    });
    return z.NEVER;
  };
  const text = toText(v);
  if (typeof text === "string") return text.trim() === "" ? fail() : { model: text.trim() };
  if (v === null || typeof v !== "object" || Array.isArray(v)) return fail();
  const { model, hidden, ...rest } = v as Record<string, unknown>;
  const name = toText(model);
  if (Object.keys(rest).length > 0 || typeof name !== "string" || name.trim() === "") return fail();
  if (hidden !== undefined && typeof hidden !== "boolean") return fail();
  return { model: name.trim(), hidden: hidden as boolean | undefined };
});

/** `model.aliases`: `name: model`, or `name: { model, hidden }`; a name with `*` is a pattern. */
export const aliasesBlock = z.record(z.string(), aliasValue);

/** `fallbacks`: `model: [next, …]` (a single name is a chain of one). */
export const fallbacksBlock = z.record(
  z.string(),
  z.preprocess(
    (v) => (typeof v === "string" ? [v] : v),
    z.array(modelName).superRefine((list, ctx) => {
      if (list.length === 0) ctx.addIssue({ code: "custom", message: "must name at least one model" });
    }),
  ),
);

/** Instance `native-dialects`: a list (or comma-separated text) of dialect names. */
export const nativeDialectsField = z.preprocess(
  (v) => (typeof v === "string" ? v.split(",").map((s) => s.trim()).filter((s) => s !== "") : v),
  z.array(z.enum(DIALECT_NAMES, {
    error: (issue) => `must be one of ${DIALECT_NAMES.join(", ")}, received ${describeValue(issue.input)}`,
  })),
);

/** Instance `upstream-model`. */
export const upstreamModelField = modelName;

/** One resolved alias. */
export interface AliasConfig {
  /** The name clients send; with `*` it is a pattern. */
  readonly name: string;
  /** The model it stands for (an instance `name`). */
  readonly model: string;
  /** Left out of `GET /v1/models` (and of Ollama's `/api/tags`). */
  readonly hidden: boolean;
  /** `name` contains `*`. */
  readonly pattern: boolean;
}

/** One fallback chain: when `model` has no instance that can take a request, try `then` in order. */
export interface FallbackChain {
  readonly model: string;
  readonly then: readonly string[];
}

/** The resolved top-level catalogue. */
export interface CatalogueConfig {
  /** Exact aliases first, then patterns (most specific first). */
  readonly aliases: readonly AliasConfig[];
}

type AliasesInput = z.output<typeof aliasesBlock>;
type FallbacksInput = z.output<typeof fallbacksBlock>;

/** The catalogue fields of a resolved instance (absent when not written). */
export function instanceCatalogue(
  inst: { readonly upstreamModel?: string; readonly nativeDialects?: readonly DialectName[] },
): Pick<InstanceConfig, "upstreamModel" | "nativeDialects"> {
  return {
    ...(inst.upstreamModel !== undefined ? { upstreamModel: inst.upstreamModel } : {}),
    ...(inst.nativeDialects?.length ? { nativeDialects: [...new Set(inst.nativeDialects)] } : {}),
  };
}

/** Literal characters of a pattern: more of them is more specific. */
function specificity(pattern: string): number {
  return pattern.replaceAll("*", "").length;
}

/**
 * The resolved aliases, checked against the models the instances serve: an alias may not shadow
 * a model, nor point to another alias (problems); one pointing to a model no instance serves is
 * a warning.
 */
export function resolveAliases(
  block: AliasesInput | undefined,
  models: ReadonlySet<string>,
  problems: Problem[],
  warnings: Warning[],
): AliasConfig[] {
  const exact: AliasConfig[] = [];
  const patterns: AliasConfig[] = [];
  for (const [name, value] of Object.entries(block ?? {})) {
    const path = ["model", "aliases", name];
    const model = value.model;
    const alias = { name, model, hidden: value.hidden ?? false, pattern: name.includes("*") };
    if (name.trim() === "" || name !== name.trim()) {
      problems.push({ path, message: "must be a name without surrounding spaces" });
    } else if (models.has(name)) {
      problems.push({
        path,
        message: "is the name of a model that instances serve; an alias cannot hide it",
      });
    } else if (!models.has(model) && Object.hasOwn(block!, model)) {
      problems.push({ path, message: `points to "${model}", which is an alias itself: name a model` });
    } else {
      if (!models.has(model)) {
        warnings.push({
          kind: "unserved-model",
          path,
          message: `points to "${model}", which no instance serves`,
        });
      }
      (alias.pattern ? patterns : exact).push(alias);
    }
  }
  // A stable sort: equally specific patterns keep the order of the file.
  patterns.sort((a, b) => specificity(b.name) - specificity(a.name));
  return [...exact, ...patterns];
}

/**
 * Fallback chains of one level (global or a service), checked: a chain may not name its own
 * model or one model twice; names no instance serves are warnings.
 */
export function resolveFallbacks(
  block: FallbacksInput | undefined,
  at: readonly PathSegment[],
  known: ReadonlySet<string>,
  problems: Problem[],
  warnings: Warning[],
): FallbackChain[] {
  const out: FallbackChain[] = [];
  for (const [model, then] of Object.entries(block ?? {})) {
    const path = [...at, model];
    const seen = new Set<string>();
    let ok = true;
    then.forEach((next, i) => {
      if (next === model) {
        problems.push({ path: [...path, i], message: `falls back to "${model}" itself` });
        ok = false;
      } else if (seen.has(next)) {
        problems.push({ path: [...path, i], message: `names "${next}" twice in one chain` });
        ok = false;
      } else if (!known.has(next)) {
        warnings.push({
          kind: "unserved-model",
          path: [...path, i],
          message: `names "${next}", which no instance serves`,
        });
      }
      seen.add(next);
    });
    if (!known.has(model)) {
      warnings.push({
        kind: "unserved-model",
        path,
        message: `is a chain for "${model}", which no instance serves`,
      });
    }
    if (ok) out.push({ model, then: [...then] });
  }
  return out;
}

/** A service's chains: its own replace the global chain of the same model. */
export function mergeFallbacks(
  service: readonly FallbackChain[],
  global: readonly FallbackChain[],
): FallbackChain[] {
  const own = new Set(service.map((c) => c.model));
  return [...service, ...global.filter((c) => !own.has(c.model))];
}

/**
 * Checks each instance's `native-dialects` against what its adapter's backend serves natively
 * (the declarations of `src/dialects/native.ts`, confirmed in the backends' sources).
 */
export function checkNativeDialects(
  kind: ServiceKind,
  instances: readonly InstanceConfig[],
  problems: Problem[],
): void {
  instances.forEach((inst, index) => {
    for (const name of inst.nativeDialects ?? []) {
      const adapters = nativeAdapters(name);
      if (adapters.includes(inst.adapter)) continue;
      problems.push({
        path: ["model", "services", kind, "instances", index, "nativeDialects"],
        message: `names ${name}, which the ${inst.adapter} adapter's backend does not serve natively ` +
          `(backends that do: ${adapters.join(", ")})`,
      });
    }
  });
}

/** Every model name an instance of any service serves. */
export function servedModels(
  services: Readonly<Record<ServiceKind, { readonly instances: readonly InstanceConfig[] }>>,
): Set<string> {
  const names = new Set<string>();
  for (const kind of SERVICE_KINDS) for (const inst of services[kind].instances) names.add(inst.name);
  return names;
}

/**
 * Rerank, normalised both ways. Clients send the Jina/Cohere request
 * `{model, query, documents, top_n, return_documents}` (documents as strings or `{text}`); they always
 * get `{id?, model?, results: [{index, relevance_score, document?}], usage?}` sorted by score,
 * whichever dialect the backend answered in (Jina/Cohere `results`, Infinity/vLLM-score `data`,
 * TEI's bare `[{index, score, text}]`, Xinference's `meta.tokens`).
 *
 * @module
 */

import { BadRequestError, UpstreamError } from "../errors.ts";

/** What the adapters need to know of a client's rerank request. */
export interface RerankRequest {
  /** The query documents are scored against ("" when absent). */
  readonly query: string;
  /** Document texts, or `undefined` for entries that are neither a string nor `{text}`. */
  readonly texts: readonly (string | undefined)[];
  /** The client's `top_n`: how many results to keep. */
  readonly topN?: number;
  /** The client's `return_documents`; `undefined` = keep what the backend sent. */
  readonly returnDocuments?: boolean;
}

/** One normalised result. */
export interface RerankResult {
  /** Position of the document in the request. */
  readonly index: number;
  /** The backend's score, higher = more relevant (not necessarily in [0, 1]). */
  readonly relevance_score: number;
  /** The document, when returned. */
  readonly document?: { readonly text: string };
}

/** The normalised response every client gets. */
export interface RerankResponse {
  /** The backend's response id, when it sent one. */
  readonly id?: string;
  /** The model that answered, when the backend said. */
  readonly model?: string;
  /** Results, most relevant first, at most `top_n`. */
  readonly results: RerankResult[];
  /** Token counts (`total_tokens`, `prompt_tokens`), when the backend reported them. */
  readonly usage?: Readonly<Record<string, number>>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function textOf(doc: unknown): string | undefined {
  if (typeof doc === "string") return doc;
  if (isRecord(doc) && typeof doc.text === "string") return doc.text;
  return undefined;
}

/**
 * Reads a client's rerank request. Lenient: missing pieces are left for the backend to reject,
 * except that `documents` must be an array when present.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRerankRequest } from "./rerank.ts";
 * const r = readRerankRequest({ query: "q", documents: ["a", { text: "b" }], top_n: 1 });
 * assert(r.texts[1] === "b" && r.topN === 1);
 * ```
 */
export function readRerankRequest(value: Record<string, unknown>): RerankRequest {
  const docs = value.documents;
  if (docs !== undefined && !Array.isArray(docs)) {
    throw new BadRequestError(
      '"documents" must be an array of strings or {text} objects.',
      "invalid_request",
      "documents",
    );
  }
  return {
    query: typeof value.query === "string" ? value.query : "",
    texts: (docs ?? []).map(textOf),
    topN: typeof value.top_n === "number" ? value.top_n : undefined,
    returnDocuments: typeof value.return_documents === "boolean" ? value.return_documents : undefined,
  };
}

/**
 * The document texts, or a `BadRequestError` naming the first entry that has no text. For
 * backends that only take plain strings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRerankRequest, requireTexts } from "./rerank.ts";
 * assert(requireTexts(readRerankRequest({ query: "q", documents: [{ text: "a" }] }))[0] === "a");
 * ```
 */
export function requireTexts(req: RerankRequest, backend = "this backend"): string[] {
  return req.texts.map((t, i) => {
    if (t === undefined) {
      throw new BadRequestError(
        `documents[${i}] must be a string or {text} object: ${backend} reranks text only.`,
        "invalid_request",
        "documents",
      );
    }
    return t;
  });
}

/**
 * Rewrites `{text}` documents to plain strings (what vLLM, llama.cpp and LocalAI accept). Returns
 * `undefined` when nothing needs to change, so the caller can forward the original bytes; entries
 * that are neither are left for the backend to judge (multimodal servers).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flattenDocuments } from "./rerank.ts";
 * assert(flattenDocuments({ documents: ["a"] }) === undefined);
 * assert(JSON.stringify(flattenDocuments({ documents: [{ text: "a" }] })) === '{"documents":["a"]}');
 * ```
 */
export function flattenDocuments(value: Record<string, unknown>): Record<string, unknown> | undefined {
  const docs = value.documents;
  if (!Array.isArray(docs) || docs.every((d) => typeof d === "string")) return undefined;
  if (!docs.every((d) => textOf(d) !== undefined)) return undefined;
  return { ...value, documents: docs.map(textOf) };
}

function readUsage(up: Record<string, unknown>): Record<string, number> | undefined {
  if (isRecord(up.usage)) {
    const usage: Record<string, number> = {};
    for (const [k, v] of Object.entries(up.usage)) if (typeof v === "number") usage[k] = v;
    return usage;
  }
  // Cohere/Xinference report tokens under meta.tokens (or meta.billed_units).
  const meta = isRecord(up.meta) ? up.meta : undefined;
  const tokens = meta &&
    (isRecord(meta.tokens) ? meta.tokens : isRecord(meta.billed_units) ? meta.billed_units : undefined);
  if (!tokens) return undefined;
  const input = typeof tokens.input_tokens === "number" ? tokens.input_tokens : 0;
  const output = typeof tokens.output_tokens === "number" ? tokens.output_tokens : 0;
  return { prompt_tokens: input, total_tokens: input + output };
}

/**
 * Maps any known rerank answer to the normalised response: sorted by score (stable), cut to
 * `top_n`, documents returned as `{text}` unless the client said `return_documents: false`, and
 * filled from the request when the backend did not echo them but the client asked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normaliseRerank, readRerankRequest } from "./rerank.ts";
 * const req = readRerankRequest({ query: "q", documents: ["a", "b"], return_documents: true });
 * const out = normaliseRerank([{ index: 0, score: 0.1 }, { index: 1, score: 0.9 }], req);
 * assert(out.results[0].index === 1 && out.results[0].document?.text === "b");
 * ```
 */
export function normaliseRerank(upstream: unknown, req: RerankRequest): RerankResponse {
  const up = isRecord(upstream) ? upstream : {};
  const list = Array.isArray(upstream) ? upstream : Array.isArray(up.results) ? up.results : up.data;
  if (!Array.isArray(list)) throw new UpstreamError("The backend's rerank response has no results list.");
  const results = list.map((item, i): RerankResult => {
    if (!isRecord(item)) throw new UpstreamError(`The backend's rerank result ${i} is not an object.`);
    const index = typeof item.index === "number" ? item.index : i;
    const score = typeof item.relevance_score === "number"
      ? item.relevance_score
      : typeof item.score === "number"
      ? item.score
      : undefined;
    if (score === undefined) throw new UpstreamError(`The backend's rerank result ${i} has no score.`);
    if (req.returnDocuments === false) return { index, relevance_score: score };
    const text = textOf(item.document) ?? textOf(item.text) ??
      (req.returnDocuments ? req.texts[index] : undefined);
    return text === undefined
      ? { index, relevance_score: score }
      : { index, relevance_score: score, document: { text } };
  });
  results.sort((a, b) => b.relevance_score - a.relevance_score);
  const top = req.topN !== undefined && req.topN >= 0 ? results.slice(0, req.topN) : results;
  const usage = readUsage(up);
  return {
    ...(typeof up.id === "string" ? { id: up.id } : {}),
    ...(typeof up.model === "string" ? { model: up.model } : {}),
    results: top,
    ...(usage ? { usage } : {}),
  };
}

/**
 * The prompt of a request as chained block hashes, for `prefix-affinity`. Pure and allocation-light:
 * the request path calls {@linkcode hashPrompt} once per request on the parsed JSON body and passes
 * the result as `PickContext.promptHashes`.
 *
 * **What is hashed.** Chat: every message in order — its role, then its content (a string, or the
 * `text` of text parts and the `url` of image parts), with separators so that moving text between
 * messages changes the hash. Completions: `prompt` (a string, the first of a list of strings, or a
 * list of token ids). Tool definitions and other parameters are not hashed: they rarely differ
 * between the turns of one conversation.
 *
 * **Blocks and chain.** The text is cut into blocks of `blockSize` UTF-16 code units (default 64,
 * about 16 tokens — vLLM's KV block size); a token id counts as 4 units. One FNV-1a state runs over
 * the whole text, so its value at the end of block *b* stands for the entire prefix up to there:
 * two prompts share their first *b* blocks exactly when (collisions aside) they share that value.
 * Only whole blocks count, and hashing stops after `maxBlocks` blocks (default 512: 32 KiB of text).
 *
 * **Checkpoints.** Not every block's value is kept: all of the first 16, then 8 per doubling
 * (every 2nd block up to 32, every 4th up to 64, …). A prefix of *b* blocks is thus recognised to
 * within 1/8 of its length, with 56 hashes for 512 blocks instead of 512 — fewer to store per
 * instance and to look up per pick. Two prompts' arrays are compared position by position.
 *
 * Values are 30-bit non-negative integers (small integers to V8, stored unboxed).
 *
 * @module
 */

/** Default block size in UTF-16 code units. */
export const DEFAULT_BLOCK_SIZE = 64;
/** Default number of blocks hashed. */
export const DEFAULT_MAX_BLOCKS = 512;

/** Options of {@linkcode hashPrompt}. */
export interface PromptHashOptions {
  /** Code units per block (>= 1). @default {64} */
  readonly blockSize?: number;
  /** Blocks hashed at most (>= 1). @default {512} */
  readonly maxBlocks?: number;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const TOKEN_UNITS = 4;

/** Murmur3's finaliser: spreads FNV's low-entropy high bits. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x3fffffff;
}

/** Whether block number `b` (1-based) is a checkpoint: all up to 16, then 8 per doubling. */
export function isCheckpoint(b: number): boolean {
  if (b <= 16) return true;
  const step = (1 << (31 - Math.clz32(b))) >>> 3;
  return b % step === 0;
}

let countedFor = 0;
let counted = 0;

/** Number of checkpoints among the first `blocks` blocks (the last answer is remembered). */
export function checkpointCount(blocks: number): number {
  if (blocks === countedFor) return counted;
  let n = 0;
  for (let b = 1; b <= blocks; b++) if (isCheckpoint(b)) n++;
  countedFor = blocks;
  counted = n;
  return n;
}

class ChainHasher {
  private h = FNV_OFFSET;
  private inBlock = 0;
  private blocks = 0;
  private count = 0;
  readonly out: Int32Array;
  full = false;

  constructor(private readonly blockSize: number, private readonly maxBlocks: number) {
    this.out = new Int32Array(checkpointCount(maxBlocks));
  }

  private unit(c: number, weight: number): void {
    this.h = Math.imul(this.h ^ c, FNV_PRIME);
    this.inBlock += weight;
    if (this.inBlock >= this.blockSize) this.endBlock();
  }

  private endBlock(): void {
    this.inBlock = 0;
    this.blocks++;
    if (isCheckpoint(this.blocks)) this.out[this.count++] = mix(this.h);
    if (this.blocks >= this.maxBlocks) this.full = true;
  }

  text(s: string): void {
    // The hot loop: locals only, one block boundary check per character.
    let h = this.h;
    let inBlock = this.inBlock;
    const size = this.blockSize;
    for (let i = 0; i < s.length; i++) {
      h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
      if (++inBlock >= size) {
        this.h = h;
        this.endBlock();
        inBlock = 0;
        if (this.full) return;
      }
    }
    this.h = h;
    this.inBlock = inBlock;
  }

  token(id: number): void {
    if (this.full) return;
    this.h = Math.imul(this.h ^ (id & 0xffff), FNV_PRIME);
    this.unit(id >>> 16, TOKEN_UNITS);
  }

  result(): Int32Array {
    return this.out.subarray(0, this.count);
  }
}

function hashContent(hasher: ChainHasher, content: unknown): void {
  if (typeof content === "string") {
    hasher.text(content);
    return;
  }
  if (!Array.isArray(content)) return;
  for (const part of content) {
    if (hasher.full) return;
    const p = part as { type?: unknown; text?: unknown; image_url?: { url?: unknown } } | null;
    if (typeof p?.text === "string") hasher.text(p.text);
    else if (typeof p?.image_url?.url === "string") hasher.text(p.image_url.url);
    hasher.text("\u0003");
  }
}

/**
 * The chained block hashes of a chat or completions body (see the module doc); empty when the
 * body has no prompt, or one shorter than a block.
 *
 * @throws {RangeError} when `blockSize` or `maxBlocks` is not an integer >= 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashPrompt } from "./prompt_hash.ts";
 * const system = { role: "system", content: "You are a careful assistant. ".repeat(20) };
 * const turn1 = hashPrompt({ messages: [system, { role: "user", content: "Hi" }] });
 * const turn2 = hashPrompt({
 *   messages: [system, { role: "user", content: "Hi" }, { role: "assistant", content: "Hello!" }],
 * });
 * assert.ok(turn1.length >= 9);
 * assert.deepEqual(turn2.slice(0, turn1.length), turn1); // same prefix, same leading hashes
 * ```
 */
export function hashPrompt(body: Record<string, unknown>, options: PromptHashOptions = {}): Int32Array {
  return promptHasher(options)(body);
}

/**
 * {@linkcode hashPrompt} with its options checked once: the request path builds one per pool and
 * calls it per request.
 *
 * @throws {RangeError} when `blockSize` or `maxBlocks` is not an integer >= 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashPrompt, promptHasher } from "./prompt_hash.ts";
 * const hash = promptHasher({ blockSize: 16 });
 * const body = { prompt: "x".repeat(100) };
 * assert.deepEqual(hash(body), hashPrompt(body, { blockSize: 16 }));
 * assert.throws(() => promptHasher({ maxBlocks: 0 }), RangeError);
 * ```
 */
export function promptHasher(options: PromptHashOptions = {}): (body: Record<string, unknown>) => Int32Array {
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  const maxBlocks = options.maxBlocks ?? DEFAULT_MAX_BLOCKS;
  for (const [name, v] of [["blockSize", blockSize], ["maxBlocks", maxBlocks]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`Cannot hash prompt: "${name}" must be an integer >= 1, received ${v}`);
    }
  }
  return (body) => hashBody(new ChainHasher(blockSize, maxBlocks), body);
}

function hashBody(hasher: ChainHasher, body: Record<string, unknown>): Int32Array {
  const messages = body.messages;
  if (Array.isArray(messages)) {
    for (const msg of messages) {
      if (hasher.full) break;
      const m = msg as { role?: unknown; content?: unknown } | null;
      hasher.text(typeof m?.role === "string" ? m.role : "");
      hasher.text("\u0001");
      hashContent(hasher, m?.content);
      hasher.text("\u0002");
    }
    return hasher.result();
  }
  let prompt = body.prompt;
  if (Array.isArray(prompt) && typeof prompt[0] === "string") prompt = prompt[0];
  if (typeof prompt === "string") hasher.text(prompt);
  else if (Array.isArray(prompt)) {
    for (const t of prompt) {
      if (typeof t !== "number" || hasher.full) break;
      hasher.token(t);
    }
  }
  return hasher.result();
}

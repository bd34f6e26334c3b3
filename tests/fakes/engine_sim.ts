/**
 * The model behind the fake inference engine: continuous batching in a few rules, enough for
 * routing to matter the way it does on a real vLLM.
 *
 * - A request waits (FIFO) until the batch has a free slot (`maxBatch`) and the KV cache room for
 *   its prompt and output tokens; so time to first token grows with the queue.
 * - The KV cache fills with concurrent work: `kvUsage` = reserved tokens / `kvCapacityTokens`.
 * - Prefill costs `prefillMsPerToken` per prompt token not already in the engine's prefix cache
 *   (blocks of `blockChars` characters, chained, like vLLM's automatic prefix caching): a long
 *   shared prefix that hits the cache cuts the time to first token several times.
 * - Each output token takes `decodeMsPerToken × (1 + batchSlowdown × (running − 1))`.
 * - Everything is multiplied by `speed` (3 = three times slower); output lengths without
 *   `max_tokens` come from a seeded PRNG, so a run is reproducible.
 *
 * Time comes from an injected `sleep`, so the same model can run on real timers (socket tests)
 * or on a virtual clock (a simulation).
 *
 * @module
 */

import { seededRandom } from "./random.ts";

/** Options of {@linkcode EngineSim}. */
export interface EngineSimOptions {
  readonly maxBatch?: number;
  readonly kvCapacityTokens?: number;
  readonly prefillMsPerToken?: number;
  readonly decodeMsPerToken?: number;
  readonly batchSlowdown?: number;
  /** Multiplies every duration: 3 = three times slower. */
  readonly speed?: number;
  readonly seed?: number;
  /** Characters per prefix-cache block (16 tokens of 4 characters). */
  readonly blockChars?: number;
  /** Blocks kept in the prefix cache (oldest dropped first). */
  readonly prefixCacheBlocks?: number;
  /** Waits `ms`, or less when `signal` aborts. */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** One generation: prompt text and how many tokens to produce. */
export interface SimRequest {
  readonly prompt: string;
  readonly maxTokens?: number;
  readonly signal?: AbortSignal;
}

interface Waiter {
  readonly need: number;
  /** `true`: admitted with its slot and KV reserved; `false`: left the queue (abort). */
  readonly settle: (admitted: boolean) => void;
}

const FNV_PRIME = 0x01000193;

/** Chained block hashes of `text` (one per whole block). */
function blockChain(text: string, blockChars: number): number[] {
  const out: number[] = [];
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
    if ((i + 1) % blockChars === 0) out.push(h >>> 0);
  }
  return out;
}

/** The engine model; see the module doc. */
export class EngineSim {
  running = 0;
  waiting = 0;
  kvReserved = 0;
  prefixQueriedTokens = 0;
  prefixHitTokens = 0;
  /** Time to first token of every finished prefill, ms. */
  readonly ttfts: number[] = [];
  readonly maxBatch: number;
  readonly kvCapacityTokens: number;
  private readonly o: Required<Omit<EngineSimOptions, "seed" | "sleep">>;
  private readonly sleep: EngineSimOptions["sleep"];
  private readonly random: () => number;
  private readonly queue: Waiter[] = [];
  private readonly prefix = new Map<number, true>();

  constructor(options: EngineSimOptions) {
    this.o = {
      maxBatch: options.maxBatch ?? 8,
      kvCapacityTokens: options.kvCapacityTokens ?? 16_384,
      prefillMsPerToken: options.prefillMsPerToken ?? 0.2,
      decodeMsPerToken: options.decodeMsPerToken ?? 4,
      batchSlowdown: options.batchSlowdown ?? 0.05,
      speed: options.speed ?? 1,
      blockChars: options.blockChars ?? 64,
      prefixCacheBlocks: options.prefixCacheBlocks ?? 4096,
    };
    this.maxBatch = this.o.maxBatch;
    this.kvCapacityTokens = this.o.kvCapacityTokens;
    this.sleep = options.sleep;
    this.random = seededRandom(options.seed ?? 1);
  }

  /** KV-cache use in [0, 1]. */
  get kvUsage(): number {
    return Math.min(1, this.kvReserved / this.kvCapacityTokens);
  }

  /**
   * Runs one generation, calling `onToken(i)` for each output token (0 is the first); resolves
   * with the number of tokens produced. An abort leaves the queue or the batch at once.
   */
  async generate(
    req: SimRequest,
    onToken: (i: number) => void | Promise<void>,
    now: () => number,
  ): Promise<number> {
    const start = now();
    const promptTokens = Math.max(1, Math.ceil(req.prompt.length / 4));
    const outTokens = req.maxTokens ?? 8 + Math.floor(this.random() * 17);
    const need = promptTokens + outTokens;
    if (!(await this.admit(need, req.signal))) return 0;
    let produced = 0;
    try {
      const cached = this.prefixHit(req.prompt);
      const uncached = Math.max(1, promptTokens - cached);
      await this.sleep(uncached * this.o.prefillMsPerToken * this.o.speed + this.step(), req.signal);
      if (req.signal?.aborted) return produced;
      this.ttfts.push(now() - start);
      for (; produced < outTokens; produced++) {
        if (produced > 0) await this.sleep(this.step(), req.signal);
        if (req.signal?.aborted) return produced;
        await onToken(produced);
      }
      return produced;
    } finally {
      this.running--;
      this.kvReserved -= need;
      this.pump();
    }
  }

  private step(): number {
    return this.o.decodeMsPerToken * this.o.speed *
      (1 + this.o.batchSlowdown * Math.max(0, this.running - 1));
  }

  /** Prompt tokens found in the prefix cache; the prompt's blocks are remembered. */
  private prefixHit(prompt: string): number {
    const chain = blockChain(prompt, this.o.blockChars);
    let hits = 0;
    while (hits < chain.length && this.prefix.has(chain[hits])) hits++;
    for (const h of chain) {
      this.prefix.delete(h);
      this.prefix.set(h, true);
    }
    while (this.prefix.size > this.o.prefixCacheBlocks) this.prefix.delete(this.prefix.keys().next().value!);
    const tokens = (hits * this.o.blockChars) / 4;
    this.prefixQueriedTokens += Math.ceil(prompt.length / 4);
    this.prefixHitTokens += tokens;
    return tokens;
  }

  private fits(need: number): boolean {
    return this.running === 0 ||
      (this.running < this.maxBatch && this.kvReserved + need <= this.kvCapacityTokens);
  }

  private reserve(need: number): void {
    this.running++;
    this.kvReserved += need;
  }

  /** Resolves `true` once a slot and KV room are reserved for the request, `false` on abort. */
  private admit(need: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (this.queue.length === 0 && this.fits(need)) {
      this.reserve(need);
      return Promise.resolve(true);
    }
    this.waiting++;
    return new Promise<boolean>((resolve) => {
      const onAbort = () => {
        const i = this.queue.indexOf(waiter);
        if (i !== -1) this.queue.splice(i, 1);
        waiter.settle(false);
      };
      const waiter: Waiter = {
        need,
        settle: (admitted) => {
          this.waiting--;
          signal?.removeEventListener("abort", onAbort);
          resolve(admitted);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private pump(): void {
    while (this.queue.length > 0 && this.fits(this.queue[0].need)) {
      const w = this.queue.shift()!;
      this.reserve(w.need);
      w.settle(true);
    }
  }
}

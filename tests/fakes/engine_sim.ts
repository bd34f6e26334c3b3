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
 * The core is event-driven ({@linkcode EngineSim.submit}: callbacks on an injected `schedule`), so
 * the routing simulation runs it in virtual time with no promise per token; {@linkcode
 * EngineSim.generate} wraps it in a promise for the socket fake, on real timers (or on a `sleep`).
 *
 * @module
 */

import type { Schedule } from "../../src/types.ts";
import { seededRandom } from "./random.ts";

/** Options of {@linkcode EngineSim}: timing from `schedule`, or from `sleep`. */
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
  /** Runs `fn` after `ms`; returns a cancel function. */
  readonly schedule?: Schedule;
  /** Waits `ms`, or less when `signal` aborts (used when no `schedule` is given). */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** One generation: prompt text and how many tokens to produce. */
export interface SimRequest {
  readonly prompt: string;
  readonly maxTokens?: number;
  readonly signal?: AbortSignal;
}

/** What {@linkcode EngineSim.submit} tells about a generation. */
export interface SimCallbacks {
  /** Output token `i` (0 is the first). */
  token(i: number): void;
  /** The generation ended with `produced` tokens (all of them, or fewer when cancelled). */
  done(produced: number): void;
}

/** A submitted generation. */
export interface SimJob {
  /** Leaves the queue, or the batch, at once. */
  cancel(): void;
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

/**
 * The prompt text an OpenAI chat (or completions) body gives the engine: role and content of
 * each message, in order.
 */
export function promptOf(
  body: { messages?: { role?: string; content?: unknown }[]; prompt?: unknown },
): string {
  if (Array.isArray(body.messages)) {
    return body.messages.map((m) => `${m.role}\n${typeof m.content === "string" ? m.content : ""}\n`).join(
      "",
    );
  }
  return typeof body.prompt === "string" ? body.prompt : "";
}

/** A schedule from a `sleep` (a cancelled one never runs). */
function scheduleFrom(sleep: NonNullable<EngineSimOptions["sleep"]>): Schedule {
  return (fn, ms) => {
    let live = true;
    sleep(ms).then(() => live && fn());
    return () => void (live = false);
  };
}

/** One generation inside the engine. */
class Job implements SimJob {
  produced = 0;
  admitted = false;
  ended = false;
  timer: (() => void) | undefined;
  readonly need: number;

  constructor(
    readonly engine: EngineSim,
    readonly prompt: string,
    readonly promptTokens: number,
    readonly outTokens: number,
    readonly callbacks: SimCallbacks,
    readonly start: number,
  ) {
    this.need = promptTokens + outTokens;
  }

  cancel(): void {
    this.engine.cancel(this);
  }
}

/** The engine model; see the module doc. */
export class EngineSim {
  running = 0;
  waiting = 0;
  kvReserved = 0;
  prefixQueriedTokens = 0;
  prefixHitTokens = 0;
  /** Time to first token of every finished prefill, ms (from submission). */
  readonly ttfts: number[] = [];
  readonly maxBatch: number;
  readonly kvCapacityTokens: number;
  private readonly o: Required<Omit<EngineSimOptions, "seed" | "sleep" | "schedule">>;
  private readonly schedule: Schedule;
  private readonly random: () => number;
  private readonly queue: Job[] = [];
  private readonly prefix = new Map<number, true>();
  /** The clock of the current `generate`/`submit` caller. */
  private now: () => number = () => 0;

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
    if (options.schedule) this.schedule = options.schedule;
    else if (options.sleep) this.schedule = scheduleFrom(options.sleep);
    else throw new TypeError(`Cannot create engine model: "schedule" or "sleep" is required`);
    this.random = seededRandom(options.seed ?? 1);
  }

  /** KV-cache use in [0, 1]. */
  get kvUsage(): number {
    return Math.min(1, this.kvReserved / this.kvCapacityTokens);
  }

  /** Starts a generation: queued, then prefilled, then one token per decode step (see the module doc). */
  submit(req: { prompt: string; maxTokens?: number }, callbacks: SimCallbacks, now: () => number): SimJob {
    this.now = now;
    const promptTokens = Math.max(1, Math.ceil(req.prompt.length / 4));
    const outTokens = req.maxTokens ?? 8 + Math.floor(this.random() * 17);
    const job = new Job(this, req.prompt, promptTokens, outTokens, callbacks, now());
    if (this.queue.length === 0 && this.fits(job.need)) this.begin(job);
    else {
      this.waiting++;
      this.queue.push(job);
    }
    return job;
  }

  /**
   * Runs one generation, calling `onToken(i)` for each output token (0 is the first); resolves
   * with the number of tokens produced. An abort leaves the queue or the batch at once.
   */
  generate(req: SimRequest, onToken: (i: number) => unknown, now: () => number): Promise<number> {
    if (req.signal?.aborted) return Promise.resolve(0);
    return new Promise((resolve) => {
      const job = this.submit(req, {
        token: (i) => void onToken(i),
        done: (n) => {
          req.signal?.removeEventListener("abort", leave);
          resolve(n);
        },
      }, now);
      const leave = () => job.cancel();
      req.signal?.addEventListener("abort", leave, { once: true });
    });
  }

  /** Removes a job from the queue, or from the batch (its KV freed). */
  cancel(job: Job): void {
    if (job.ended) return;
    if (!job.admitted) {
      const i = this.queue.indexOf(job);
      if (i !== -1) this.queue.splice(i, 1);
      this.waiting--;
      job.ended = true;
      job.callbacks.done(0);
      return;
    }
    job.timer?.();
    this.finish(job);
  }

  private step(): number {
    return this.o.decodeMsPerToken * this.o.speed *
      (1 + this.o.batchSlowdown * Math.max(0, this.running - 1));
  }

  /** Admitted: reserves a slot and KV, then prefills what the prefix cache does not hold. */
  private begin(job: Job): void {
    this.running++;
    this.kvReserved += job.need;
    job.admitted = true;
    const uncached = Math.max(1, job.promptTokens - this.prefixHit(job.prompt));
    const prefill = uncached * this.o.prefillMsPerToken * this.o.speed + this.step();
    job.timer = this.schedule(() => this.emit(job), prefill);
  }

  /** Emits the job's next token, then schedules the one after (or finishes). */
  private emit(job: Job): void {
    if (job.produced === 0) this.ttfts.push(this.now() - job.start);
    job.callbacks.token(job.produced++);
    if (job.ended) return; // cancelled from the callback
    if (job.produced >= job.outTokens) return this.finish(job);
    job.timer = this.schedule(() => this.emit(job), this.step());
  }

  private finish(job: Job): void {
    job.ended = true;
    job.timer = undefined;
    this.running--;
    this.kvReserved -= job.need;
    this.pump();
    job.callbacks.done(job.produced);
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

  private pump(): void {
    while (this.queue.length > 0 && this.fits(this.queue[0].need)) {
      this.waiting--;
      this.begin(this.queue.shift()!);
    }
  }
}

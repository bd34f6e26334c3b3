/**
 * The gateway as the routing simulation runs it: the REAL strategy modules (`createStrategy`,
 * residency wrapper included), the REAL engine-signal trust and correction (`InstanceSignal`,
 * `engineLoadOf`), the REAL prompt hasher, the REAL latency EWMAs, and the REAL admission queue
 * (`AdmissionQueue`, `hasRoom`, deadlines on a `DeadlineSweep`) — around engines modelled by
 * `tests/fakes/engine_sim.ts`, all on one virtual clock.
 *
 * Faithful to what a strategy sees live: its own in-flight counts (+1 when a request is sent,
 * −1 when its stream ends), latency samples when a request ends, and engine reports only as the
 * scraper delivers them — taken every `intervalMs`, recorded `lagMs` later with the in-flight
 * count of that moment (as `scraper.ts` does), distrusted after `staleAfterMs`. The simulator's
 * own knowledge of the engines (their true queues) is only reported, never routed on.
 *
 * What it leaves out, on purpose: HTTP, adapters, retries and breakers (no request fails here).
 *
 * @module
 */

import { createStrategy, observeLatency, observeOutcome, promptHasher } from "../../../src/balancer/mod.ts";
import { PRIORITY_LEVELS } from "../../../src/config/queue.ts";
import { hasRoom } from "../../../src/proxy/admission.ts";
import { AdmissionQueue, type Offer, QueueBudget, type Queued } from "../../../src/proxy/admission_queue.ts";
import { DeadlineSweep, type Watch } from "../../../src/proxy/deadlines.ts";
import { Link } from "../../../src/linked_list.ts";
import { engineLoadOf, InstanceSignal } from "../../../src/signals/instance_signal.ts";
import type { PickContext, Strategy, StrategyName, UpstreamStats } from "../../../src/types.ts";
import { EngineSim, type EngineSimOptions, promptOf } from "../../fakes/engine_sim.ts";
import { seededRandom } from "../../fakes/random.ts";
import type { VirtualTime } from "./virtual_time.ts";
import type { Message } from "./workload.ts";

/** One instance of the pool. */
export interface InstanceSpec {
  /** 1 = the reference speed, 3 = three times slower. */
  readonly speed: number;
  readonly weight?: number;
  readonly maxConcurrency?: number;
  /** This engine's own model parameters, over the pool's (a smaller GPU: less KV cache). */
  readonly engine?: Omit<EngineSimOptions, "speed" | "schedule" | "sleep">;
}

/** The simulated gateway's configuration. */
export interface SimGatewayOptions {
  readonly strategy: StrategyName;
  readonly instances: readonly InstanceSpec[];
  /** The engines' model (speed comes from each instance). */
  readonly engine: Omit<EngineSimOptions, "speed" | "schedule" | "sleep">;
  readonly scrape: { readonly intervalMs: number; readonly staleAfterMs: number; readonly lagMs: number };
  /** The admission queue; absent = none (instances with `maxConcurrency` then refuse at once). */
  readonly queue?: { readonly maxSize: number; readonly maxWaitMs: number; readonly maxEngineQueue?: number };
  readonly seed: number;
}

/** An instance as the strategies see it (plus its engine, which they never read). */
export interface SimInstance {
  readonly id: string;
  readonly weight: number;
  readonly stats: UpstreamStats;
  readonly config: { readonly maxConcurrency?: number };
  readonly engine: EngineSim;
  readonly signal: InstanceSignal;
}

/** A chat request of the workload. */
export interface SimRequest {
  readonly user: string;
  readonly messages: readonly Message[];
  readonly maxTokens: number;
}

/** How a request ended, as a client saw it. */
export interface SimResult {
  readonly sentAt: number;
  /** Client-side time to first token (gateway queue included), when one came. */
  readonly ttftMs?: number;
  readonly tokens: number;
  readonly instance?: string;
  /** `ok`, or the admission queue's `full` (429) or `timeout` (503). */
  readonly outcome: "ok" | "full" | "timeout";
  /** Time spent in the gateway's queue, ms. */
  readonly queuedMs: number;
}

/** The simulated gateway. */
export class SimGateway {
  readonly instances: SimInstance[];
  readonly strategy: Strategy<SimInstance>;
  readonly queue: AdmissionQueue | undefined;
  readonly sweep: DeadlineSweep;
  /** Gateway queue depth, sampled at every scrape tick. */
  readonly depthSamples: number[] = [];
  /** Each engine's true queue (`waiting`), sampled at every scrape tick, by instance. */
  readonly engineQueueSamples: number[][];
  readonly #hash: ((body: Record<string, unknown>) => Int32Array) | undefined;
  readonly #maxEngineQueue: number | undefined;

  constructor(readonly time: VirtualTime, readonly o: SimGatewayOptions) {
    this.instances = o.instances.map((spec, i) => {
      const stats: UpstreamStats = { inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 };
      const signal = new InstanceSignal({ clock: time.now, staleAfterMs: o.scrape.staleAfterMs, model: "m" });
      stats.engine = signal;
      return {
        id: `i${i}${spec.speed !== 1 ? `-slow×${spec.speed}` : ""}`,
        weight: spec.weight ?? 1,
        stats,
        config: spec.maxConcurrency === undefined ? {} : { maxConcurrency: spec.maxConcurrency },
        engine: new EngineSim({
          ...o.engine,
          ...spec.engine,
          speed: spec.speed,
          seed: o.seed + i,
          schedule: time.schedule,
        }),
        signal,
      };
    });
    this.strategy = createStrategy(o.strategy, this.instances, {
      random: seededRandom(o.seed ^ 0x5bd1e995),
      hashAlgorithm: "fnv1a",
      loadFactor: 1.25,
      kvSaturation: 0.9,
      prefixCacheSize: 8192,
    });
    this.#hash = o.strategy === "prefix-affinity" ? promptHasher() : undefined;
    const gated = o.queue !== undefined || this.instances.some((u) => u.config.maxConcurrency !== undefined);
    this.queue = gated
      ? new AdmissionQueue(new QueueBudget(o.queue?.maxSize ?? 0), PRIORITY_LEVELS)
      : undefined;
    this.#maxEngineQueue = o.queue?.maxEngineQueue;
    this.sweep = new DeadlineSweep(time);
    this.engineQueueSamples = this.instances.map(() => []);
    this.#scrape();
  }

  /** Sends a request; `done` is called once with how it ended. */
  send(req: SimRequest, done: (r: SimResult) => void): void {
    new SimExchange(this, req, done).start();
  }

  /** Builds the pick context of a request (`pickInput`'s inputs, as on the request path). */
  pickContext(req: SimRequest, x: SimExchange): PickContext<SimInstance> {
    const max = this.#maxEngineQueue;
    const body = { messages: req.messages };
    return {
      key: req.user,
      eligible: this.queue === undefined ? undefined : (u) => hasRoom(u, max) || (x.full++, false),
      load: engineLoadOf,
      promptHashes: this.#hash?.(body),
    };
  }

  /** Every `intervalMs`: each engine's report is taken, and recorded `lagMs` later. */
  #scrape(): void {
    const { intervalMs, lagMs } = this.o.scrape;
    const tick = () => {
      this.depthSamples.push(this.queue?.size ?? 0);
      this.instances.forEach((u, i) => {
        const e = u.engine;
        const reading = { waiting: e.waiting, running: e.running, kvUsage: e.kvUsage };
        this.engineQueueSamples[i].push(e.waiting);
        this.time.schedule(() => {
          u.signal.record(reading, u.stats.inFlight);
          this.queue?.drain();
        }, lagMs);
      });
      this.time.schedule(tick, intervalMs);
    };
    this.time.schedule(tick, 0);
  }
}

/** One request on its way through the simulated gateway (the request path's `Exchange`). */
class SimExchange implements Queued, Watch {
  readonly queueLink: Link<Queued> = new Link(this);
  due = Infinity;
  readonly dueLink: Link<Watch> = new Link(this);
  readonly priority = 0;
  full = 0;
  readonly #gw: SimGateway;
  readonly #req: SimRequest;
  readonly #done: (r: SimResult) => void;
  readonly #sentAt: number;
  readonly #ctx: PickContext<SimInstance>;

  constructor(gw: SimGateway, req: SimRequest, done: (r: SimResult) => void) {
    this.#gw = gw;
    this.#req = req;
    this.#done = done;
    this.#sentAt = gw.time.now();
    this.#ctx = gw.pickContext(req, this);
  }

  /** `Exchange.next`: pick at once, or wait behind those already waiting. */
  start(): void {
    const q = this.#gw.queue;
    if (q === undefined) return this.#send(this.#gw.strategy.pick(this.#ctx)!);
    q.drain();
    if (q.size === 0) {
      const u = this.#take();
      if (u !== undefined) return this.#send(u);
    }
    if (!q.add(this)) return this.#end("full");
    this.due = this.#gw.sweep.now() + (this.#gw.o.queue?.maxWaitMs ?? 0);
    this.#gw.sweep.add(this);
  }

  #take(): SimInstance | undefined {
    this.full = 0;
    return this.#gw.strategy.pick(this.#ctx);
  }

  /** `Queued`: a slot may be free. */
  offer(): Offer {
    const u = this.#take();
    if (u === undefined) return "full";
    this.#gw.sweep.delete(this);
    this.#send(u);
    return "taken";
  }

  /** `Watch`: `max-wait` passed. */
  expire(): void {
    if (this.#gw.queue!.remove(this)) this.#end("timeout");
  }

  #end(outcome: "full" | "timeout"): void {
    this.#done({ sentAt: this.#sentAt, tokens: 0, outcome, queuedMs: this.#gw.time.now() - this.#sentAt });
  }

  /** The attempt: in-flight +1, the engine generates, the outcome is recorded when it ends. */
  #send(u: SimInstance): void {
    const time = this.#gw.time;
    const attemptAt = time.now();
    let firstAt = 0;
    u.stats.inFlight++;
    u.engine.submit({
      prompt: promptOf({ messages: [...this.#req.messages] }),
      maxTokens: this.#req.maxTokens,
    }, {
      token: (i) => void (i === 0 && (firstAt = time.now())),
      done: (n) => {
        u.stats.inFlight--;
        observeOutcome(u.stats, true);
        observeLatency(u.stats, firstAt - attemptAt);
        this.#done({
          sentAt: this.#sentAt,
          ttftMs: firstAt - this.#sentAt,
          tokens: n,
          instance: u.id,
          outcome: "ok",
          queuedMs: attemptAt - this.#sentAt,
        });
        this.#gw.queue?.drain();
      },
    }, time.now);
  }
}

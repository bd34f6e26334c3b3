/**
 * The live operator console: a page served by the gateway itself (static files embedded in the
 * binary), a fixed-size history of the traffic, and one server-sent-events feed per open page.
 * `src/http` only mounts it; `gateway.ts` feeds it the access records.
 *
 * @module
 */

export {
  type ConsoleContext,
  type ConsoleDeps,
  CONTENT_SECURITY_POLICY,
  createConsole,
  type OperatorConsole,
  type TokenCheck,
} from "./handler.ts";
export type {
  EngineLoad,
  HelloMessage,
  InstanceView,
  LoadSource,
  ServiceView,
  TickMessage,
} from "./snapshot.ts";
export { BYTES_PER_BUCKET, createStatsRing, type StatsRing } from "./stats_ring.ts";

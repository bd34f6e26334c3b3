/**
 * The real `main.ts`, whose workers of `server.workers` run `failing_worker.ts` instead of
 * `main.ts` itself: a test makes worker 1 fail on purpose, and the product has no way to.
 * Run it as `main.ts` is run (`spawnGateway(args, env, { entry })`).
 *
 * @module
 */

import { main } from "../../main.ts";

Deno.exit(
  await main(Deno.args, Deno.env.toObject(), undefined, new URL("./failing_worker.ts", import.meta.url)),
);

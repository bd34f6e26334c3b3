/**
 * Deno 2.9: `Worker.terminate()` does not stop a worker whose JavaScript does not yield. The worker
 * thread runs on (here: one core at 100 %) and keeps its resources — for a gateway worker, its
 * listener on the shared port, which goes on taking connections nobody answers. This is why the
 * supervisor of `server.workers` exits the process (for systemd to restart it) when a worker stops
 * answering its heartbeat, instead of replacing that worker in place (`src/cluster/worker_supervisor.ts`).
 *
 * Run: `deno run -A docs/repro_worker_terminate.ts` (Linux: it reads /proc, which Deno grants only with -A). Prints the
 * worker thread's CPU ticks every 1.5 s after `terminate()`; they keep growing. Expected (as in
 * browsers and Node's `worker_threads`): the thread ends at once, or within the 2 s grace Deno's
 * own comments describe (denoland/deno#14003).
 *
 * @module
 */

const source = "const a = new Int32Array(4); self.onmessage = () => { for (;;) a[0]++; };";
const url = URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
const worker = new Worker(url, { type: "module" });
worker.postMessage("spin");
await new Promise((r) => setTimeout(r, 500));
worker.terminate();

/** CPU ticks (user) of this process's threads named `worker-*`. */
function workerTicks(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const task of Deno.readDirSync(`/proc/${Deno.pid}/task`)) {
    const stat = Deno.readTextFileSync(`/proc/${Deno.pid}/task/${task.name}/stat`);
    const name = stat.slice(stat.indexOf("(") + 1, stat.indexOf(")"));
    if (name.startsWith("worker")) out[name] = Number(stat.slice(stat.indexOf(")") + 2).split(" ")[11]);
  }
  return out;
}

for (let i = 1; i <= 3; i++) {
  await new Promise((r) => setTimeout(r, 1500));
  console.log(`${(i * 1.5).toFixed(1)} s after terminate():`, workerTicks());
}
Deno.exit(0); // the only way to stop that thread

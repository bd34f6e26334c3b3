import { createClient } from "redis";
const mode = Deno.args[0];
let port = 6398;
let stopFake = () => {};
if (mode === "garbage" || mode === "slow") {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  port = (l.addr as Deno.NetAddr).port;
  (async () => {
    for await (const c of l) {
      (async () => {
        const buf = new Uint8Array(1024);
        while ((await c.read(buf)) !== null) {
          if (mode === "garbage") await c.write(new TextEncoder().encode("!!garbage\r\n"));
        }
      })().catch(() => {});
    }
  })();
  stopFake = () => l.close();
}
const url = mode === "wrongpass" ? `redis://:bad@127.0.0.1:6399` : `redis://127.0.0.1:${port}`;
const c = createClient({
  url,
  disableOfflineQueue: true,
  socket: {
    connectTimeout: 300,
    reconnectStrategy: (n: number, cause: Error) => {
      console.log("reconnect", n, cause?.message);
      return n > 2 ? new Error("give up") : 100;
    },
  },
});
c.on("error", (e) => console.log("error event:", e.constructor.name, e.message));
c.on("ready", () => console.log("ready"));
c.on("end", () => console.log("end"));
const t0 = Date.now();
try {
  await Promise.race([
    c.connect(),
    new Promise((_, r) => setTimeout(() => r(new Error("start deadline")), 2000)),
  ]);
  console.log("connected", Date.now() - t0);
  try {
    console.log(await c.sendCommand(["PING"], { timeout: 100, rejectInFlight: true } as never));
  } catch (e) {
    console.log("cmd err", (e as Error).constructor.name, (e as Error).message, Date.now() - t0);
  }
} catch (e) {
  console.log("connect failed", (e as Error).message, Date.now() - t0);
}
try {
  c.destroy();
} catch (e) {
  console.log("destroy", (e as Error).message);
}
stopFake();

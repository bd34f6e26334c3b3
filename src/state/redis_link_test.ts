import assert from "node:assert/strict";
import { manualSchedule } from "../../tests/fakes/manual_schedule.ts";
import { createRedisLink, LATE_REPLY_WAIT_MS, type RedisClientLike } from "./redis_link.ts";

/** A node-redis client whose replies the test gives (PING answers at once). */
class FakeClient implements RedisClientLike {
  readonly sent: Array<{ args: readonly string[]; reply: PromiseWithResolvers<unknown> }> = [];
  destroyed = false;
  connect = () => Promise.resolve();
  on() {}
  subscribe = () => Promise.resolve();
  sendCommand(args: readonly string[]): Promise<unknown> {
    if (args[0] === "PING") return Promise.resolve("PONG");
    const reply = Promise.withResolvers<unknown>();
    this.sent.push({ args, reply });
    return reply.promise;
  }
  destroy() {
    this.destroyed = true;
    for (const s of this.sent) s.reply.reject(new Error("destroyed"));
  }
  /** Answers the command sent as `first`. */
  answer(first: string, reply: unknown) {
    this.sent.find((s) => s.args[0] === first)!.reply.resolve(reply);
  }
}

/** A link on fake clients and a manual clock; `clients[0]` is the first session's commands. */
async function fakeLink() {
  const t = manualSchedule();
  const clients: FakeClient[] = [];
  const link = createRedisLink({
    connect: () => (clients.push(new FakeClient()), clients.at(-1)!),
    timeoutMs: 50,
    clock: t.now,
    random: () => 0.5,
    schedule: t.schedule,
    log: () => {},
  });
  await link.start();
  assert.equal(link.up, true);
  return { t, link, cmd: clients[0], sub: clients[1] };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("createRedisLink() send() with late: a reply past the deadline rejects the caller at the deadline and goes to late, whose undo is sent on the same connection; one timer serves every send", async () => {
  const { t, link, cmd } = await fakeLink();
  const late: unknown[] = [];
  const undo = (reply: unknown) => (late.push(reply), ["UNDO"]);
  const slow = link.send(["SLOW"], undo);
  const quick = link.send(["QUICK"], undo);
  assert.equal(t.pending().length, 1, "one timer for both");
  cmd.answer("QUICK", "in time");
  assert.equal(await quick, "in time");
  t.advance(49);
  await tick();
  t.advance(1);
  await assert.rejects(slow, /no answer within 50 ms/);
  assert.equal(link.up, true, "one miss");
  cmd.answer("SLOW", "late");
  await tick();
  assert.deepEqual(late, ["late"], "only the late reply");
  assert.deepEqual(cmd.sent.map((s) => s.args[0]), ["SLOW", "QUICK", "UNDO"]);
  assert.equal(t.pending().length, 0, "no timer left");
  link.close();
});

Deno.test("createRedisLink() a session dropped for missed deadlines keeps its command connection open for the replies it follows (and their undos), then destroys it", async () => {
  const { t, link, cmd, sub } = await fakeLink();
  const a = link.send(["A"], () => ["UNDO-A"]);
  const b = link.send(["B"], () => undefined);
  t.advance(50);
  await Promise.all([assert.rejects(a), assert.rejects(b)]);
  assert.equal(link.up, false, "two misses: down");
  assert.equal(sub.destroyed, true);
  assert.equal(cmd.destroyed, false, "still followed");
  cmd.answer("A", "late");
  await tick();
  cmd.answer("UNDO-A", "done");
  await tick();
  assert.equal(cmd.destroyed, false, "B is still followed");
  cmd.answer("B", "late");
  await tick();
  assert.equal(cmd.destroyed, true, "every reply in");
  link.close();
});

Deno.test("createRedisLink() a dropped session waits LATE_REPLY_WAIT_MS at most for the replies it follows", async () => {
  const { t, link, cmd } = await fakeLink();
  const sends = [link.send(["A"], () => undefined), link.send(["B"], () => undefined)];
  t.advance(50);
  await Promise.all(sends.map((s) => assert.rejects(s)));
  assert.equal(link.up, false);
  t.advance(LATE_REPLY_WAIT_MS - 1);
  assert.equal(cmd.destroyed, false);
  t.advance(1);
  assert.equal(cmd.destroyed, true);
  link.close();
});

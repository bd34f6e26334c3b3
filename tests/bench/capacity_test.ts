import assert from "node:assert/strict";
import { bounds, nextStreams, search, type SearchOptions, type Tried } from "./capacity.ts";

const O: SearchOptions = { start: 200, cap: 6400, resolution: 0.125, min: 25, maxSteps: 12 };

/** The steps a search takes against a target that holds exactly `capacity` streams. */
async function steps(capacity: number, o = O): Promise<number[]> {
  const tried = await search(o, (n) => Promise.resolve({ n, pass: n <= capacity }));
  return tried.map((t) => t.n);
}

Deno.test("search doubles, then bisects to within the resolution", async () => {
  assert.deepEqual(await steps(1000), [200, 400, 800, 1600, 1200, 1000, 1100]);
  const { pass, fail } = bounds((await steps(1000)).map((n) => ({ n, pass: n <= 1000 })));
  assert.equal(pass, 1000);
  assert.equal(fail, 1100);
  assert(fail! - pass! <= O.resolution * pass!);
});

Deno.test("search stops at the cap when everything passes", async () => {
  assert.deepEqual(await steps(100_000), [200, 400, 800, 1600, 3200, 6400]);
});

Deno.test("search halves below the start, and gives up under the minimum", async () => {
  assert.deepEqual(await steps(60), [200, 100, 50, 80, 70, 60, 65]);
  assert.deepEqual(await steps(10), [200, 100, 50, 25]);
});

Deno.test("search is bounded in steps", async () => {
  assert.equal((await steps(1234, { ...O, resolution: 0, maxSteps: 5 })).length, 5);
});

Deno.test("quick search: doubling only, no bisection", async () => {
  const quick = { start: 400, cap: 3200, resolution: 1, min: 50, maxSteps: 5 };
  assert.deepEqual(await steps(1000, quick), [400, 800, 1600]);
  assert.deepEqual(await steps(300, quick), [400, 200]);
});

Deno.test("bounds ignores a pass above the lowest failure (noise)", () => {
  const tried: Tried[] = [
    { n: 200, pass: true },
    { n: 400, pass: false },
    { n: 300, pass: true },
    { n: 800, pass: true },
  ];
  assert.deepEqual(bounds(tried), { pass: 300, fail: 400 });
  assert.equal(nextStreams(tried, O), 350);
});

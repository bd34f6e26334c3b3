import { taskCompile } from "./compile_command.ts";
import { smoke } from "./smoke.ts";

// The same script the CI job runs against the compiled binary, here against `deno run` with
// exactly the permissions and unstable flags the binary is compiled with (`deno compile` cannot
// fetch its runtime on our machines): a missing --allow-* breaks this test too.
Deno.test("smoke.ts passes against main.ts run with the compile task's permissions", async () => {
  const flags = taskCompile();
  await smoke([Deno.execPath(), "run", ...flags.runtime, flags.entry]);
});

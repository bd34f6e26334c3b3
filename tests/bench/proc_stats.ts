/**
 * Per-process CPU time and memory from Linux `/proc`: `utime + stime` of `/proc/<pid>/stat` (all
 * threads, in clock ticks) and `VmHWM` / `VmRSS` of `/proc/<pid>/status`. Elsewhere (no `/proc`)
 * every reading is `undefined` and the table shows "n/a".
 *
 * Deno 2 wants `--allow-all` for `/proc`; under `deno task bench`'s narrower permissions the files
 * are read (and `clear_refs` written) through `cat` / `sh`, which `--allow-run` permits.
 *
 * @module
 */

/** Reads a `/proc` file directly, or through `cat` when Deno refuses. */
export async function readProc(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) return undefined;
  }
  try {
    const out = await new Deno.Command("cat", { args: [path], stdout: "piped", stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : undefined;
  } catch {
    return undefined;
  }
}

async function writeProc(path: string, text: string): Promise<boolean> {
  try {
    await Deno.writeTextFile(path, text);
    return true;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) return false;
  }
  try {
    const sh = new Deno.Command("sh", {
      args: ["-c", 'printf %s "$2" > "$1"', "sh", path, text],
      stderr: "null",
    });
    return (await sh.output()).success;
  } catch {
    return false;
  }
}

/** Clock ticks per second (`getconf CLK_TCK`); 100 on every Linux we run on. */
let ticksPerSecond = 100;

/** Asks `getconf` for the tick rate once (keeps 100 when it is missing). */
export async function initClockTicks(): Promise<void> {
  try {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped", stderr: "null" })
      .output();
    const n = Number(new TextDecoder().decode(out.stdout).trim());
    if (Number.isInteger(n) && n > 0) ticksPerSecond = n;
  } catch { /* no getconf: keep the default */ }
}

/** CPU time (user + system, ms) the process has used so far. */
export async function cpuMs(pid: number): Promise<number | undefined> {
  const stat = await readProc(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // The command name may hold spaces and parentheses: fields are counted after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // fields 14 and 15 of proc(5)
  return Number.isFinite(ticks) ? (ticks * 1000) / ticksPerSecond : undefined;
}

async function statusKb(pid: number, key: "VmHWM" | "VmRSS"): Promise<number | undefined> {
  const status = await readProc(`/proc/${pid}/status`);
  const m = status?.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"));
  return m ? Number(m[1]) : undefined;
}

/** Peak resident set size (MB) since start or the last {@linkcode resetPeakRss}. */
export async function peakRssMb(pid: number): Promise<number | undefined> {
  const kb = await statusKb(pid, "VmHWM");
  return kb === undefined ? undefined : kb / 1024;
}

/** Current resident set size (MB). */
export async function rssMb(pid: number): Promise<number | undefined> {
  const kb = await statusKb(pid, "VmRSS");
  return kb === undefined ? undefined : kb / 1024;
}

/**
 * Resets the peak RSS to the current RSS (`echo 5 > /proc/<pid>/clear_refs`, Linux ≥ 4.0), so
 * each scenario reports its own peak. False when the kernel refuses.
 */
export function resetPeakRss(pid: number): Promise<boolean> {
  return writeProc(`/proc/${pid}/clear_refs`, "5");
}

/** A CPU counter started now: `stop()` gives the CPU ms used in between. */
export async function cpuMeter(pid: number): Promise<{ stop(): Promise<number | undefined> }> {
  const start = await cpuMs(pid);
  return {
    async stop() {
      const end = await cpuMs(pid);
      return start === undefined || end === undefined ? undefined : end - start;
    },
  };
}

/** Share of CPU time the hypervisor took (`steal` of `/proc/stat`) between start and `stop()`, %. */
export async function stealMeter(): Promise<{ stop(): Promise<number | undefined> }> {
  const read = async () => {
    const line = (await readProc("/proc/stat"))?.split("\n").find((l) => l.startsWith("cpu "));
    const v = line?.trim().split(/\s+/).slice(1).map(Number);
    return v && v.length >= 8 ? { steal: v[7], total: v.reduce((a, b) => a + b, 0) } : undefined;
  };
  const start = await read();
  return {
    async stop() {
      const end = await read();
      if (!start || !end || end.total === start.total) return undefined;
      return ((end.steal - start.steal) / (end.total - start.total)) * 100;
    },
  };
}

/** Process and machine figures from /proc (Linux). Every reader returns NaN where /proc is missing. @module */
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux in practice). */
export const CLK_TCK = 100;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** utime and stime of a process, in seconds. */
export function cpuTimes(pid: number): { user: number; sys: number } {
  const s = read(`/proc/${pid}/stat`);
  if (!s) return { user: Number.NaN, sys: Number.NaN };
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  // after "(comm) ": state(0) ppid(1) … utime(11) stime(12)
  return { user: Number(f[11]) / CLK_TCK, sys: Number(f[12]) / CLK_TCK };
}

/** utime + stime of a process, in seconds. */
export function cpuSeconds(pid: number): number {
  const t = cpuTimes(pid);
  return t.user + t.sys;
}

/** Resident set size of a process, in KiB. */
export function rssKiB(pid: number): number {
  const s = read(`/proc/${pid}/status`);
  const m = s?.match(/^VmRSS:\s+(\d+)\s+kB/m);
  return m ? Number(m[1]) : Number.NaN;
}

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const s = read("/proc/stat");
  if (!s) return { busy: Number.NaN, total: Number.NaN };
  const f = s.slice(0, s.indexOf("\n")).trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice (guest already in user)
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = f[3] + (f[4] ?? 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

/** Pids of the direct children of `pid`. */
export function childrenOf(pid: number): number[] {
  const s = read(`/proc/${pid}/task/${pid}/children`);
  return s ? s.trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

/** A CPU usage window over some processes and the machine. */
export class CpuWindow {
  #t0 = performance.now();
  #proc: { user: number; sys: number }[];
  #m0 = machineCpu();
  constructor(readonly pids: number[]) {
    this.#proc = pids.map(cpuTimes);
  }
  /**
   * Per-process CPU % of one core (total, and the kernel's share), and the machine's busy % of
   * all cores, since construction.
   */
  read(): { cpuPct: number[]; sysPct: number[]; machineBusyPct: number; wallS: number } {
    const wallS = (performance.now() - this.#t0) / 1000;
    const now = this.pids.map(cpuTimes);
    const cpuPct = now.map((t, i) => ((t.user + t.sys - this.#proc[i].user - this.#proc[i].sys) / wallS) * 100);
    const sysPct = now.map((t, i) => ((t.sys - this.#proc[i].sys) / wallS) * 100);
    const m = machineCpu();
    const machineBusyPct = ((m.busy - this.#m0.busy) / (m.total - this.#m0.total)) * 100;
    return { cpuPct, sysPct, machineBusyPct, wallS };
  }
}

/** CPU model and logical core count. */
export function machine(): { cpu: string; cores: number; memGiB: number } {
  const info = read("/proc/cpuinfo") ?? "";
  const cpu = info.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? "unknown";
  const cores = (info.match(/^processor\s*:/gm) ?? []).length || navigator.hardwareConcurrency || 1; // all cores, not this process's affinity
  const mem = read("/proc/meminfo")?.match(/^MemTotal:\s+(\d+)/m);
  return { cpu, cores, memGiB: mem ? Math.round(Number(mem[1]) / 1048576) : Number.NaN };
}

/** The 1-minute load average. */
export function loadAvg(): number {
  return Number(read("/proc/loadavg")?.split(" ")[0] ?? Number.NaN);
}

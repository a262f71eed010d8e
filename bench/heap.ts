/**
 * Where Bun's memory per idle connection goes. Starts our Bun server in a child (this file with
 * HEAP_SERVE=1: the server plus a SIGUSR1 handler that runs a full GC and prints JSC's heap
 * statistics), opens N authenticated connections in 100 rooms, and prints per connection: RSS,
 * JavaScript heap (live, and the capacity JSC holds for it: the difference is the connect burst's
 * garbage left between survivors), and the object types that grew (count and share).
 * Usage: [HEAP_SHAPES=1] bun bench/heap.ts [N=5000] [format=json]  (the idle benchmark's clients are
 * protobuf; HEAP_SHAPES=1 also lists the cells that grew by class and property names, from heap snapshots)
 * @module
 */
import { mint } from "../test/helpers/tokens.ts";

if (process.env.HEAP_SERVE === "1") {
  const { heapStats } = await import("bun:jsc");
  process.on("SIGUSR1", () => {
    Bun.gc(true);
    const h = heapStats();
    const rss = Number(/VmRSS:\s+(\d+)/.exec(require("node:fs").readFileSync("/proc/self/status", "utf8"))![1]);
    process.stderr.write(`HEAP ${JSON.stringify({ rssKib: rss, heapSize: h.heapSize, heapCapacity: h.heapCapacity, objectCount: h.objectCount, types: h.objectTypeCounts, shapes: process.env.HEAP_SHAPES === "1" ? shapes() : {} })}\n`);
  });
  /**
   * Count and bytes per kind of cell in a JSC heap snapshot: the class name, and for plain
   * objects the (first five, sorted) names of their properties that hold cells (so a player entry and a claim holder are told apart).
   */
  const shapes = (): Record<string, [number, number]> => {
    const snap = Bun.generateHeapSnapshot() as unknown as { nodes: number[]; nodeClassNames: string[]; edges: number[]; edgeNames: string[]; edgeTypes: string[] };
    const props = new Map<number, string[]>();
    const PROPERTY = snap.edgeTypes.indexOf("Property");
    for (let i = 0; i < snap.edges.length; i += 4) {
      if (snap.edges[i + 2] !== PROPERTY) continue;
      const from = snap.edges[i]!;
      const list = props.get(from) ?? [];
      list.push(snap.edgeNames[snap.edges[i + 3]!]!);
      props.set(from, list);
    }
    const out: Record<string, [number, number]> = {};
    for (let i = 0; i < snap.nodes.length; i += 4) {
      const id = snap.nodes[i]!;
      const cls = snap.nodeClassNames[snap.nodes[i + 2]!]!;
      const key = cls === "Object" ? `Object{${(props.get(id) ?? []).sort().slice(0, 5).join(",")}}` : cls;
      const e = (out[key] ??= [0, 0]);
      e[0]++;
      e[1] += snap.nodes[i + 1]!;
    }
    return out;
  };
  await import("../adapters/bun.ts");
} else {
  const N = Number(process.argv[2] ?? 5000);
  const FORMAT = process.argv[3] ?? "json";
  const SECRET = "graphwiz-test-secret-0123456789abcdef";
  const child = Bun.spawn([process.execPath, import.meta.path], {
    env: { PATH: process.env.PATH ?? "", HEAP_SERVE: "1", HEAP_SHAPES: process.env.HEAP_SHAPES ?? "", PORT: "0", HOST: "127.0.0.1", JWT_SECRET: SECRET, CONNECT_RATE_LIMIT: "0", MAX_ROOM_CONNECTIONS: "100000" },
    stdout: "pipe", stderr: "pipe",
  });
  const heaps: Record<string, any>[] = [];
  let port = 0;
  (async () => {
    let buf = "";
    for await (const c of child.stderr) {
      buf += new TextDecoder().decode(c);
      for (let i; (i = buf.indexOf("\n")) >= 0; buf = buf.slice(i + 1)) if (buf.startsWith("HEAP ")) heaps.push(JSON.parse(buf.slice(5, i)));
    }
  })();
  (async () => {
    for await (const c of child.stdout) {
      const m = /"port":(\d+)/.exec(new TextDecoder().decode(c));
      if (m) port = Number(m[1]);
    }
  })();
  while (!port) await Bun.sleep(50);
  const snap = async () => {
    const n = heaps.length;
    child.kill("SIGUSR1");
    while (heaps.length === n) await Bun.sleep(50);
    return heaps[n];
  };
  const open = async (i: number) => {
    const token = await mint({ sub: `user-${i}` });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/room-${i % 100}?format=${FORMAT}&token=${token}`);
    await new Promise((r, j) => ((ws.onmessage = r), (ws.onerror = j)));
    return ws;
  };
  const socks: WebSocket[] = [];
  for (let i = 0; i < 20; i++) socks.push(await open(i)); // warm-up
  await Bun.sleep(1000);
  const a = await snap();
  for (let i = 20; i < N + 20; i += 200) socks.push(...(await Promise.all(Array.from({ length: Math.min(200, N + 20 - i) }, (_, k) => open(i + k)))));
  await Bun.sleep(3000);
  const b = await snap();
  const per = (x: number) => (x / N).toFixed(1);
  console.log(`${N} connections: RSS ${per((b.rssKib - a.rssKib) * 1024)} B/conn, JS heap ${per(b.heapSize - a.heapSize)} B/conn live of ${per(b.heapCapacity - a.heapCapacity)} capacity, objects ${per(b.objectCount - a.objectCount)}/conn`);
  const grew = Object.keys(b.types).map((t) => [t, (b.types[t] ?? 0) - (a.types[t] ?? 0)] as const).filter(([, d]) => d >= N / 2).sort((x, y) => y[1] - x[1]);
  for (const [t, d] of grew) console.log(`  ${(d / N).toFixed(2).padStart(6)} × ${t}`);
  if (process.env.HEAP_SHAPES === "1") {
    // HEAP_SHAPES=1: the cells that grew, by class and property names, with their own bytes (heap snapshot sizes)
    console.log("cells per connection, by shape (count, bytes):");
    const rows = Object.keys(b.shapes).map((k) => [k, (b.shapes[k][0] - (a.shapes[k]?.[0] ?? 0)) / N, (b.shapes[k][1] - (a.shapes[k]?.[1] ?? 0)) / N] as const);
    for (const [k, n, bytes] of rows.filter((r) => r[1] >= 0.3 || r[2] >= 20).sort((x, y) => y[2] - x[2])) console.log(`  ${n.toFixed(2).padStart(6)} × ${bytes.toFixed(0).padStart(5)} B  ${k}`);
  }
  for (const s of socks) s.close();
  child.kill();
  process.exit(0);
}

/**
 * [guarantees] Finding 1: a reliable join or resume must not make the instance's existing
 * members lose messages. Today every acknowledging join sets the room's cursor to the log's
 * head, so entries still on their way to that instance are dropped as duplicates for all its
 * members (and after a skipped gap the cursor can even move backwards: out of order).
 */
import { expect, test } from "bun:test";
import { play } from "./in-process.ts";

test("[finding 1] an acknowledging join on A while a chat is on its way to A: A's members still get one, two, three", async () => {
  // c0 (ack) on A, c1 (ack) on B; frames to A are held while c1 chats and c2 (ack) joins A.
  const sim = await play(4000, [{ k: "conn", c: 0, n: 0 }, { k: "conn", c: 1, n: 1 }, { k: "tick", ms: 300 }, { k: "hold", n: 0, ms: 500 }]);
  const [c0, c1, c2] = sim.clients;
  c1!.chat(undefined, "one");
  await sim.run({ k: "conn", c: 2, n: 0 });
  c1!.chat(undefined, "two");
  c1!.chat(undefined, "three");
  await sim.tick(3000);
  expect(c0!.chats()).toEqual(["one", "two", "three"]);
  expect(c2!.chats().filter((t) => t !== "one")).toEqual(["two", "three"]);
});

test("[finding 1] a plain member on A keeps every entry too, and nobody's cursor moves backwards (no seq after a higher one)", async () => {
  const sim = await play(1500, [{ k: "conn", c: 2, n: 0 }, { k: "conn", c: 4, n: 0 }, { k: "conn", c: 1, n: 1 }, { k: "tick", ms: 300 }, { k: "hold", n: 0, ms: 400 }]);
  const [, c1, c2, c3] = sim.clients;
  const plain = sim.clients[4]!;
  c1!.chat(undefined, "one");
  plain.chat(undefined, "local");
  await sim.run({ k: "conn", c: 3, n: 0 }); // an acknowledging join on A while "one" is held
  c1!.chat(undefined, "two");
  await sim.tick(3000);
  for (const member of [c2!, plain]) {
    expect(member.chats().filter((t) => t !== "local")).toEqual(["one", "two"]);
    for (const conn of member.life!.raw) {
      const seqs = conn.map((a) => a.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b)); // in room order on every connection
    }
  }
  expect(c3!.chats().includes("two")).toBe(true);
});

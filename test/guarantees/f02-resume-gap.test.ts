/**
 * [guarantees] Finding 2: a resuming client must not lose the entries appended while its
 * resume reads the log. Today the resume reads the log head, then the replay range; an entry
 * appended in between reaches the room before the resuming connection is a member, the
 * hello's `last_seq` is already past it, and the client's next cumulative ACK passes it, so
 * it is never resent (the lost seq equals the resume hello's `last_seq`).
 * The store answers one round trip at a time here (as Redis does), so the resume's steps
 * interleave with the bus.
 */
import { expect, test } from "bun:test";
import type { Cmd } from "../model/commands.ts";
import { play } from "./in-process.ts";

test("[finding 2] a chat appended while a resume on another instance reads the log reaches the resumed client exactly once", async () => {
  // c1 on B, c2 on C, c0 on A; c0 drops and resumes on B; c2 chats between the resume's round trips.
  const setup: Cmd[] = [{ k: "conn", c: 1, n: 1 }, { k: "conn", c: 2, n: 2 }, { k: "conn", c: 0, n: 0 }, { k: "tick", ms: 300 }, { k: "drop", c: 0, late: 0 }];
  const sim = await play(4000, setup, true);
  const [c0, , c2] = sim.clients;
  await sim.run({ k: "conn", c: 0, n: 1, q: true });
  await sim.run({ k: "step", q: true }); // the resume has read the head; it asks for the session next
  c2!.chat(undefined, "during");
  await sim.run({ k: "step", q: true });
  await sim.tick(200);
  c2!.chat(undefined, "after"); // c0 acknowledges this one: nothing before it is resent afterwards
  await sim.tick(3000);
  const hello = c0!.hellos.at(-1)!;
  expect(hello.resumed).toBe(true);
  expect(c0!.chats()).toEqual(["during", "after"]);
});

test("[finding 2] the same on the instance that holds the session (a resume after a quick drop)", async () => {
  const sim = await play(4000, [{ k: "conn", c: 1, n: 1 }, { k: "conn", c: 0, n: 0 }, { k: "tick", ms: 300 }, { k: "drop", c: 0, late: 0 }], true);
  const [c0, c1] = sim.clients;
  await sim.run({ k: "conn", c: 0, n: 0, q: true });
  c1!.chat(undefined, "during");
  await sim.run({ k: "step", q: true });
  await sim.run({ k: "step", q: true });
  await sim.tick(200);
  c1!.chat(undefined, "after");
  await sim.tick(3000);
  expect(c0!.chats()).toEqual(["during", "after"]);
});

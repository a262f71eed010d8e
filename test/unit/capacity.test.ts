/**
 * Capacity (issue 12, item 5): places reserved before the token check count against both caps
 * until the connection joined or failed; a place whose upgrade never completes is given back
 * after UPGRADE_TIMEOUT_MS — by one shared timer, whatever the number of upgrades in flight.
 */
import { expect, test } from "bun:test";
import { Capacity, UPGRADE_TIMEOUT_MS, type Reservation } from "../../src/core/capacity.ts";
import { ManualClock } from "../../src/lib/clock.ts";

function setup(maxConnections = 3, maxRoom = 2) {
  const clock = new ManualClock();
  const open = { n: 0 };
  const cap = new Capacity(clock, maxConnections, maxRoom, () => open.n, () => 0);
  return { clock, cap, open };
}
const place = (r: ReturnType<Capacity["reserve"]>): Reservation => {
  if (typeof r === "string") throw new Error(`refused: ${r}`);
  return r;
};

test("both caps count places in flight; release gives the place back once", () => {
  const { cap } = setup(3, 2);
  const a = place(cap.reserve("r"));
  place(cap.reserve("r"));
  expect(cap.reserve("r")).toBe("room_full");
  place(cap.reserve("s"));
  expect(cap.reserve("t")).toBe("over_capacity");
  a.release();
  a.release(); // idempotent: frees one place, not two
  expect(cap.reserve("t")).not.toBeString();
  expect(cap.reserve("r")).toBe("over_capacity");
});

test("an upgrade that never opens is given back after UPGRADE_TIMEOUT_MS; an opened one keeps its room place", () => {
  const { clock, cap, open } = setup(10, 2);
  const stuck = place(cap.reserve("r"));
  clock.advance(UPGRADE_TIMEOUT_MS / 2);
  const ok = place(cap.reserve("r"));
  ok.opened();
  open.n = 1; // the opened socket now counts as a connection
  expect(cap.reserve("r")).toBe("room_full");
  clock.advance(UPGRADE_TIMEOUT_MS / 2); // the first place is due, the second opened
  const again = place(cap.reserve("r"));
  expect(cap.reserve("r")).toBe("room_full"); // `ok` still holds its place until it joins
  stuck.release(); // already given back: no effect
  expect(cap.reserve("r")).toBe("room_full");
  again.release();
  ok.release();
  expect(cap.reserve("r")).not.toBeString();
});

test("many upgrades in flight share one timer, and each is given back at its own time", () => {
  const { clock, cap } = setup(100, 1000);
  const fill = () => {
    let n = 0;
    while (typeof cap.reserve("r") !== "string") n++;
    return n;
  };
  for (let i = 0; i < 100; i++) {
    place(cap.reserve("r")); // reserved at 0, 10, …, 990 ms
    clock.advance(10);
  }
  expect(clock.pending).toBe(1);
  clock.advance(UPGRADE_TIMEOUT_MS - 1000); // now 30 000: only the place of 0 ms is due
  expect(fill()).toBe(1);
  clock.advance(500); // now 30 500: those of 10…500 ms are due (50)
  expect(fill()).toBe(50);
  expect(clock.pending).toBe(1);
});

test("once no upgrade is in flight, no timer is left", () => {
  const { clock, cap } = setup(10, 10);
  const a = place(cap.reserve("r")), b = place(cap.reserve("r"));
  expect(clock.pending).toBe(1);
  a.opened();
  expect(clock.pending).toBe(1);
  b.release();
  expect(clock.pending).toBe(0);
});

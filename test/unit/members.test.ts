/**
 * A room's members (src/delivery/members.ts): one map by client id, plus the members a takeover
 * displaced — the same membership and `holder` answers as a set of members beside a map of
 * holders, which it replaced.
 */
import { describe, expect, test } from "bun:test";
import { Members } from "../../src/delivery/members.ts";

const member = (clientId: string, name = clientId) => ({ clientId, name });

describe("Members", () => {
  test("members are iterated in admission order, counted, and found by client id", () => {
    const m = new Members<ReturnType<typeof member>>();
    const [a, b, c] = [member("a"), member("b"), member("c")];
    for (const x of [a, b, c]) m.add(x);
    m.add(b); // admitting a member again changes nothing
    expect([...m]).toEqual([a, b, c]);
    expect(m.size).toBe(3);
    expect(m.holder("b")).toBe(b);
    expect(m.holder("z")).toBeUndefined();
    expect(m.has(c)).toBe(true);
    expect(m.delete(b)).toBe(true);
    expect(m.delete(b)).toBe(false);
    expect([...m]).toEqual([a, c]);
    expect(m.has(b)).toBe(false);
  });

  test("a takeover: the new connection holds the client id, the old one stays a member until it goes", () => {
    const m = new Members<ReturnType<typeof member>>();
    const [old, next, other] = [member("c1", "old"), member("c1", "next"), member("c2")];
    m.add(old);
    m.add(other);
    m.add(next);
    expect(m.size).toBe(3);
    expect(m.holder("c1")).toBe(next);
    expect(m.has(old)).toBe(true);
    expect(new Set(m)).toEqual(new Set([old, next, other]));
    // The new one goes first: nobody holds c1 any more, though the old one is still a member.
    expect(m.delete(next)).toBe(true);
    expect(m.holder("c1")).toBeUndefined();
    expect([...m]).toEqual([other, old]);
    expect(m.delete(old)).toBe(true);
    expect([...m]).toEqual([other]);
    expect(m.size).toBe(1);
  });

  test("the old connection going first leaves the new one holding the client id", () => {
    const m = new Members<ReturnType<typeof member>>();
    const [old, next] = [member("c1", "old"), member("c1", "next")];
    m.add(old);
    m.add(next);
    expect(m.delete(old)).toBe(true);
    expect(m.holder("c1")).toBe(next);
    expect([...m]).toEqual([next]);
  });

  test("a member whose client id changed anyway is still removed (never left behind)", () => {
    const m = new Members<{ clientId: string }>();
    const x = { clientId: "before" };
    m.add(x);
    x.clientId = "after";
    expect(m.delete(x)).toBe(true);
    expect(m.size).toBe(0);
    expect([...m]).toEqual([]);
  });
});

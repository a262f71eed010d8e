/**
 * [sdk] The client against a real server: room state stays right for the sender and for every
 * member (own entities, merged updates, races, refusals), sends before `connect()` are queued,
 * sends after `close()` throw, and the documented errors carry their codes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GraphwizClient, GraphwizError, type ClientOptions, type EntityChange, type ServerError } from "../../src/client/index.ts";
import { startServer, type RunningServer } from "../helpers/server.ts";

let s: RunningServer;
const open: GraphwizClient[] = [];
beforeAll(async () => {
  s = await startServer("bun", { MAX_ENTITIES_PER_ROOM: "3" });
});
afterAll(async () => {
  for (const c of open) if (c.state !== "closed") c.close();
  await s?.stop();
});

/** A client (reconnect off), connected unless told not to. */
async function client(room: string, clientId: string, opts: Partial<ClientOptions> = {}, connect = true): Promise<GraphwizClient> {
  const c = new GraphwizClient({ url: s.ws, room, clientId, displayName: clientId, reconnect: false, ...opts });
  open.push(c);
  if (connect) await c.connect();
  return c;
}
async function until(what: string, ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}
const entityLog = (c: GraphwizClient) => {
  const log: string[] = [];
  c.on("entity", (e: EntityChange) => log.push(`${e.kind}:${e.entity_id}:${e.source}`));
  return log;
};

describe("room state", () => {
  test("the sender sees its own entity and update at once; a member sees the merged components", async () => {
    const ann = await client("state-own", "ann");
    const bob = await client("state-own", "bob", { format: "protobuf" });
    const annLog = entityLog(ann), bobLog = entityLog(bob);
    ann.spawnEntity({ entity_id: "lamp", template_id: "lamp", components: { color: "red", on: "0" } });
    expect(ann.entities.get("lamp")).toEqual({ id: "lamp", template_id: "lamp", owner_id: "ann", components: { color: "red", on: "0" } });
    ann.updateEntity("lamp", { on: "1" });
    expect(ann.entities.get("lamp")!.components).toEqual({ color: "red", on: "1" });
    await until("bob to see the update", () => bob.entities.get("lamp")?.components.on === "1");
    expect(bob.entities.get("lamp")).toEqual(ann.entities.get("lamp")!);
    const late = await client("state-own", "late");
    expect(late.entities.get("lamp")).toEqual(ann.entities.get("lamp")!);
    ann.despawnEntity("lamp");
    await until("bob to see the despawn", () => !bob.entities.has("lamp"));
    expect(annLog).toEqual(["spawn:lamp:local", "update:lamp:local", "despawn:lamp:local"]);
    expect(bobLog).toEqual(["spawn:lamp:server", "update:lamp:server", "despawn:lamp:server"]);
  });

  test("a refused send is undone (LIMIT_EXCEEDED), the error names it; a race for one id ends the same for both", async () => {
    const ann = await client("state-refused", "ann");
    const bob = await client("state-refused", "bob");
    const errors: ServerError[] = [];
    ann.on("error", (e) => errors.push(e));
    const annLog = entityLog(ann);
    for (const id of ["a", "b", "c"]) ann.spawnEntity({ entity_id: id });
    const refused = ann.spawnEntity({ entity_id: "d" });
    expect(ann.entities.has("d")).toBe(true);
    await until("the refusal", () => errors.length === 1);
    expect(errors[0]).toMatchObject({ code: "LIMIT_EXCEEDED", ref_message_id: refused });
    expect(ann.entities.has("d")).toBe(false);
    expect(annLog.slice(-2)).toEqual(["spawn:d:local", "despawn:d:revert"]);
    await until("bob to have a, b, c", () => bob.entities.size === 3);
    expect([...bob.entities.keys()].sort()).toEqual(["a", "b", "c"]);

    // Both spawn "x" at once (the room has room for one more): whoever the server took first owns it, for both.
    ann.despawnEntity("c");
    await until("bob to see c go", () => !bob.entities.has("c"));
    const conflicts: string[] = [];
    ann.on("error", (e) => conflicts.push(`ann:${e.code}`));
    bob.on("error", (e) => conflicts.push(`bob:${e.code}`));
    ann.spawnEntity({ entity_id: "x", template_id: "ann's" });
    bob.spawnEntity({ entity_id: "x", template_id: "bob's" });
    await until("one CONFLICT", () => conflicts.length === 1);
    const loser = conflicts[0]!.split(":")[0];
    expect(conflicts[0]).toEndWith(":CONFLICT");
    await until("both to agree on x", () => ann.entities.get("x")?.owner_id === bob.entities.get("x")?.owner_id);
    expect(ann.entities.get("x")).toEqual(bob.entities.get("x")!);
    expect(ann.entities.get("x")!.owner_id).toBe(loser === "ann" ? "bob" : "ann");
    const stats = await (await fetch(`${s.http}/ws/state-refused/stats`)).json();
    expect(stats.connection_count).toBe(2);
  });

  test("presence: named kinds, your own update applied locally, a whisper reaches only its target", async () => {
    const ann = await client("state-presence", "ann");
    const kinds: string[] = [];
    ann.on("presence", (e) => kinds.push(`${e.kind}:${e.client_id}:${e.source}${e.self ? ":self" : ""}`));
    const bob = await client("state-presence", "bob");
    const cy = await client("state-presence", "cy");
    const cyChats: string[] = [];
    cy.on("chat", (c) => cyChats.push(c.message));
    bob.updatePresence({ display_name: "Bobby", position: { x: 1, y: 2, z: 3 } });
    expect(bob.me).toMatchObject({ display_name: "Bobby", position: { x: 1, y: 2, z: 3 } });
    await until("ann to see Bobby", () => ann.players.get("bob")?.display_name === "Bobby");
    const whisper = ann.next("chat");
    bob.sendChat("psst", { to: "ann" });
    bob.sendChat("hello all");
    const [chat] = await whisper;
    expect(chat).toMatchObject({ from_client_id: "bob", message: "psst", type: "WHISPER", to_client_id: "ann" });
    await until("cy to get the normal chat", () => cyChats.length === 1);
    expect(cyChats).toEqual(["hello all"]);
    cy.close();
    await until("ann to see cy leave", () => !ann.players.has("cy"));
    expect(kinds).toEqual(["join:bob:server", "join:cy:server", "update:bob:server", "leave:cy:server"]);
    const [pong] = await Promise.all([ann.next("pong"), ann.ping()]);
    expect(pong[0].rtt_ms).toBeGreaterThanOrEqual(0);
    expect(pong[0].server_time).toBeGreaterThan(0);
  });

  test("connecting again after a gap announces what changed meanwhile (snapshot events)", async () => {
    const ann = await client("state-gap", "ann");
    const bob = await client("state-gap", "bob");
    bob.spawnEntity({ entity_id: "bobs-box" });
    await until("ann to see bob's box", () => ann.entities.has("bobs-box"));
    ann.close();
    await until("ann to be closed", () => ann.state === "closed");
    bob.close();
    await until("bob to be gone", () => bob.state === "closed");
    const cy = await client("state-gap", "cy");
    const log: string[] = [];
    ann.on("presence", (e) => log.push(`${e.kind}:${e.client_id}:${e.source}`));
    ann.on("entity", (e) => log.push(`${e.kind}:${e.entity_id}:${e.source}`));
    await ann.connect();
    // ann joined again: a new joined_at (the host is the longest-present member).
    expect(log.sort()).toEqual(["despawn:bobs-box:snapshot", "join:cy:snapshot", "leave:bob:snapshot", "update:ann:snapshot"]);
    expect([...ann.players.keys()].sort()).toEqual(["ann", "cy"]);
    cy.close();
  });
});

describe("sending before connect, after close", () => {
  test("sends before connect() go out after the hello, in order, positions latest-wins", async () => {
    const bob = await client("queue", "bob");
    const got: string[] = [];
    bob.on("message", (m) => got.push(m.chat_message ? `chat:${m.chat_message.message}` : m.position_update ? `pos:${m.position_update.position?.x}` : String(m.type)));
    const ann = await client("queue", "ann", {}, false);
    expect(ann.state).toBe("idle");
    ann.sendChat("one");
    for (let x = 1; x <= 5; x++) ann.sendPosition({ x, y: 0, z: 0 });
    ann.sendChat("two");
    await ann.connect();
    expect(ann.me?.position).toEqual({ x: 5, y: 0, z: 0 });
    await until("bob to get both chats", () => got.filter((g) => g.startsWith("chat")).length === 2);
    expect(got.filter((g) => g !== "40")).toEqual(["chat:one", "pos:5", "chat:two"]);
  });

  test("QUEUE_FULL past queueLimit; CLIENT_CLOSED after close(); connect() again reopens", async () => {
    const c = await client("queue-limits", "c", { queueLimit: 2 }, false);
    c.sendChat("1");
    c.sendChat("2");
    expect(() => c.sendChat("3")).toThrow(expect.objectContaining({ name: "GraphwizError", code: "QUEUE_FULL" }));
    c.close();
    expect(c.state).toBe("closed");
    expect(() => c.sendChat("4")).toThrow(expect.objectContaining({ code: "CLIENT_CLOSED" }));
    const hello = await c.connect();
    expect(hello.client_id).toBe("c");
    c.sendChat("5");
    c.close();
    await until("the close", () => c.state === "closed");
    expect(() => c.sendChat("6")).toThrow(GraphwizError);
  });

  test("outcomes: NOT_SENT for what was still queued at close(), OUTCOME_UNKNOWN for what went out before a drop", async () => {
    const queued = await client("outcome-close", "q", { reliable: true }, false);
    const never = queued.sendChat("never sent");
    queued.close();
    expect(await queued.outcome(never).catch((e: GraphwizError) => e.code)).toBe("NOT_SENT");
    const c = await client("outcome-close", "c", { reliable: true, reconnect: { initialMs: 50 } });
    const id = c.sendChat("in flight");
    c.socket!.close(4001, "drop"); // no answer is read after this: the outcome is unknown
    expect(await c.outcome(id).catch((e: GraphwizError) => e.code)).toBe("OUTCOME_UNKNOWN");
    await until("the resume", () => c.state === "open" && c.hello?.resumed === true);
    expect((await c.outcome(c.sendChat("after the resume"))).seq).toBeGreaterThan(0);
    // Without reliable mode nothing is tracked.
    const plain = await client("outcome-close", "plain");
    expect(await plain.outcome(plain.sendChat("hi")).catch((e: GraphwizError) => e.code)).toBe("NO_OUTCOME");
  });

  // A reliable message the rate limiter drops is named in a RATE_LIMITED error (for an
  // acknowledging client, up to RATE_LIMIT_MESSAGES per window), so its sender learns its outcome.
  test("every reliable send learns its outcome, also when the rate limiter drops it", async () => {
    const c = await client("outcome-rate", "flood", { reliable: true });
    const outcomes = Array.from({ length: 200 }, (_, i) => c.outcome(c.sendChat(`${i}`)).then(() => "ACCEPTED", (e: GraphwizError) => e.serverError?.code ?? e.code));
    const answered = await Promise.race([Promise.all(outcomes), Bun.sleep(3000).then(() => "some never answered")]);
    expect(answered).not.toBe("some never answered");
    expect(answered).toContain("RATE_LIMITED");
  });

  test("connect() rejects with CONNECT_FAILED when the server refuses and no retry follows", async () => {
    const c = new GraphwizClient({ url: s.ws, room: "bad room!", reconnect: false });
    const err = await c.connect().then(() => undefined, (e: GraphwizError) => e);
    expect(err).toBeInstanceOf(GraphwizError);
    expect(err).toMatchObject({ code: "CONNECT_FAILED", closeCode: 1006 });
    expect(c.state).toBe("closed");
  });
});

/**
 * The SERVER_HELLO frames a client receives on joining. The room's world state — their big
 * part — is put together from each player's cached encoding (hello-state.ts); only the few
 * per-connection fields are encoded per joiner. The frames go through the same queue and
 * limits as everything else.
 * xr clients (GraphWiz-XR) get the state in camelCase and then a PRESENCE_JOIN about
 * themselves naming the host (see xr-format.ts).
 * @module
 */
import { writeVarint, varintLength } from "../lib/varint.ts";
import { encodeBinary, root } from "../protocol/proto.ts";
import { MessageType } from "../protocol/types.ts";
import { SERVER_VERSION } from "../version.ts";
import type { Connection } from "./connection.ts";
import { copyPieces, stateBytes, stateText } from "./hello-state.ts";
import { hostOf } from "./host.ts";
import type { Room } from "./room.ts";
import { selfJoinFrame } from "./xr-format.ts";

const ServerHelloProto = root.lookupType("graphwiz.core.ServerHello");

/**
 * The JSON SERVER_HELLO text frame (always first, for every client), then for protobuf clients
 * the same hello as a binary `Message{server_hello}`. Both carry the room's world state, and
 * for reliable clients their session and where the room's sequence stands.
 */
export function helloFrames(conn: Connection, messageId: string, now: number, resumed = false): (string | Uint8Array)[] {
  const room = conn.room as Room;
  const session = conn.session ? { session_id: conn.session, resumed, epoch: room.epoch, last_seq: room.seq } : {};
  const host = hostOf(room.world);
  const head = JSON.stringify({
    type: "SERVER_HELLO",
    room_id: room.id,
    client_id: conn.clientId,
    timestamp: Math.floor(conn.connectedAt / 1000),
    connection_id: conn.id,
    server_version: SERVER_VERSION,
    user_id: conn.userId,
    format: conn.format,
    host_client_id: host,
    ...session,
  });
  const stateFormat = conn.format === "xr" ? "xr" : "json"; // GraphWiz-XR's client reads it in camelCase
  const json = stateText(room.world, stateFormat, `${head.slice(0, -1)},"initial_state":`, "}");
  if (conn.format === "xr") return [json, selfJoinFrame(conn, messageId, now)];
  if (conn.format !== "protobuf") return [json];
  const hello = ServerHelloProto.encode({
    server_version: SERVER_VERSION,
    assigned_client_id: conn.clientId,
    room_id: room.id,
    connection_id: conn.id,
    user_id: conn.userId ?? "",
    host_client_id: host,
    ...session,
  } as never).finish();
  const envelope = encodeBinary({ message_id: messageId, timestamp: conn.connectedAt, type: MessageType.SERVER_HELLO });
  // envelope ‖ server_hello (11) { hello ‖ initial_state (4) { state } }, written once.
  const state = stateBytes(room.world);
  const inner = hello.length + 1 + varintLength(state.length) + state.length;
  const out = new Uint8Array(envelope.length + 1 + varintLength(inner) + inner);
  out.set(envelope, 0);
  let at = envelope.length;
  out[at] = 0x5a; // Message.server_hello = 11
  at = writeVarint(out, at + 1, inner);
  out.set(hello, at);
  at += hello.length;
  out[at] = 0x22; // ServerHello.initial_state = 4
  copyPieces(out, writeVarint(out, at + 1, state.length), state.pieces);
  return [json, out];
}

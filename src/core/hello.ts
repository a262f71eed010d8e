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
import { encodeWorldState } from "./hello-state.ts";
import { hostOf } from "./host.ts";
import type { Room } from "./room.ts";
import { selfJoinFrame } from "./xr-format.ts";

const ServerHelloProto = root.lookupType("graphwiz.core.ServerHello");

/** `prefix ‖ tag ‖ varint(len) ‖ body`: a length-delimited field appended to encoded bytes. */
function withField(prefix: Uint8Array, tag: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + 1 + varintLength(body.length) + body.length);
  out.set(prefix, 0);
  out[prefix.length] = tag;
  const at = writeVarint(out, prefix.length + 1, body.length);
  out.set(body, at);
  return out;
}

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
  const json = `${head.slice(0, -1)},"initial_state":${encodeWorldState(room.world, stateFormat) as string}}`;
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
  const withState = withField(hello, 0x22, encodeWorldState(room.world, "protobuf") as Uint8Array); // ServerHello.initial_state = 4
  const envelope = encodeBinary({ message_id: messageId, timestamp: conn.connectedAt, type: MessageType.SERVER_HELLO });
  return [json, withField(envelope, 0x5a, withState)]; // Message.server_hello = 11
}

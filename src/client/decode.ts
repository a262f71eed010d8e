/**
 * Any server frame, either format, decoded as the SDK sees it (for tools and tests; the client
 * itself decodes binary frames only with the codec it loaded). Imports the protobuf codec.
 * @module
 */
import { decodeJson, type ServerFrame } from "./json.ts";
import { decodeBinary } from "./protobuf.ts";

export type { HelloInfo, ServerFrame } from "./json.ts";

/** Decodes a frame from the server; what is not a typed message comes back as `raw`. Never throws. */
export function decodeServerFrame(data: string | Uint8Array): ServerFrame {
  if (typeof data === "string") return decodeJson(data);
  try {
    return { kind: "message", msg: decodeBinary(data) };
  } catch {
    return { kind: "raw", data };
  }
}

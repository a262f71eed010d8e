/**
 * The text of an entity component's bytes — kept apart from the codecs so the client SDK's JSON
 * bundle can use it without the protobuf runtime.
 * @module
 */
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 bytes as their text, anything else as `base64:<data>`. */
export function componentText(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    let s = "";
    for (const b of bytes) s += String.fromCharCode(b);
    return `base64:${btoa(s)}`;
  }
}

/** sha256 as the shipping formats write it: lowercase hex. */
import { createHash } from "node:crypto";

export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

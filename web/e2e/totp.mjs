// TOTP codes computed in Node (RFC 6238: HMAC-SHA-1 over the 30 s step, 6 digits) with
// node:crypto alone, so the end-to-end tests sign in the way an authenticator app would,
// independently of the server's own code.
import { createHmac } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (no padding needed, spaces and case ignored) → bytes. */
export function base32Decode(text) {
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    const index = BASE32.indexOf(c);
    if (index < 0) throw new Error(`not base32: ${c}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The time step of `ms` (epoch milliseconds). */
export function stepAt(ms = Date.now()) {
  return Math.floor(ms / 1000 / 30);
}

/** The 6-digit code of a base32 secret for time step `step`. */
export function totp(secret, step = stepAt()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const number = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(number).padStart(6, '0');
}

/**
 * The codes of one secret as the server accepts them: each step once, one step of drift either
 * way. `next()` answers a code of a step not used yet (this step's or the next one's), waiting
 * when both are used.
 */
export class Authenticator {
  constructor(secret) {
    this.secret = secret;
    this.last = -1;
  }

  /** Marks `step` used (the server accepted its code). */
  used(step) {
    this.last = Math.max(this.last, step);
  }

  async next() {
    for (;;) {
      const step = Math.max(this.last + 1, stepAt());
      if (step <= stepAt() + 1) {
        this.last = step;
        return totp(this.secret, step);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** The API-key form's rules, apart from React so they are tested on their own. */

/** At most this many keys may be active at once (the server answers 409 beyond). */
export const MAX_ACTIVE_KEYS = 20;

/** How many of `keys` still work at `now` (ms): the ones that count towards the cap. */
export function activeCount(keys: readonly { expires_at?: string | null }[], now: number): number {
  return keys.filter((k) => !k.expires_at || Date.parse(k.expires_at) > now).length;
}

/** The networks typed into the form: split on commas, spaces and new lines; blanks dropped. */
export function parseAllowedIps(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * The expiry sent for a date picked in the form (`YYYY-MM-DD`): the end of that day in UTC.
 * Empty: never. `null` for a date that is not one or not after `now`.
 */
export function expiryOf(date: string, now: Date = new Date()): string | undefined | null {
  if (!date) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return null;
  const end = new Date(`${date}T23:59:59Z`);
  if (Number.isNaN(end.getTime()) || end.getTime() <= now.getTime()) return null;
  return end.toISOString();
}

/** The scopes a new key asks for: none when all of the owner's are ticked (the default). */
export function scopesToSend(ticked: readonly string[], own: readonly string[]): string[] | undefined {
  const all = own.every((s) => ticked.includes(s));
  return all ? undefined : own.filter((s) => ticked.includes(s));
}

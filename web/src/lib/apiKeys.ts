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

/** The expiries the form offers, in days (empty: never). */
export const EXPIRY_CHOICES = [
  { value: '', label: 'Never' },
  { value: '7', label: 'In 7 days' },
  { value: '30', label: 'In 30 days' },
  { value: '90', label: 'In 90 days' },
  { value: '365', label: 'In a year' },
] as const;

/** The expiry sent for a choice of the form: `days` days after `now`; none for "never". */
export function expiryOf(days: string, now: Date = new Date()): string | undefined {
  const n = Number(days);
  if (!days || !Number.isInteger(n) || n <= 0) return undefined;
  return new Date(now.getTime() + n * 86_400_000).toISOString();
}

/** The scopes a new key asks for: none when all of the owner's are ticked (the default). */
export function scopesToSend(ticked: readonly string[], own: readonly string[]): string[] | undefined {
  const all = own.every((s) => ticked.includes(s));
  return all ? undefined : own.filter((s) => ticked.includes(s));
}

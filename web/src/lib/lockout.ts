import type { Lockout } from '../api/admin';

/** Whether a lockout entry locks sign-in at `now` (epoch ms). */
export function isLocked(l: Pick<Lockout, 'permanent' | 'locked_until'>, now: number = Date.now()): boolean {
  if (l.permanent) return true;
  if (!l.locked_until) return false;
  const until = Date.parse(l.locked_until);
  return !Number.isNaN(until) && until > now;
}

/** A short state for a lockout entry: "permanent", "locked" or "failures only". */
export function lockState(
  l: Pick<Lockout, 'permanent' | 'locked_until'>,
  now: number = Date.now(),
): 'permanent' | 'locked' | 'not locked' {
  if (l.permanent) return 'permanent';
  return isLocked(l, now) ? 'locked' : 'not locked';
}

/** The lockouts that lock a known user now, by user id. */
export function lockedUsers(items: Lockout[], now: number = Date.now()): Map<string, Lockout> {
  const m = new Map<string, Lockout>();
  for (const l of items) if (l.user_id && isLocked(l, now)) m.set(l.user_id, l);
  return m;
}

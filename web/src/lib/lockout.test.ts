import { describe, expect, it } from 'vitest';
import type { Lockout } from '../api/admin';
import { isLocked, lockState, lockedUsers } from './lockout';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const entry = (over: Partial<Lockout>): Lockout => ({
  user_id: 'u1',
  email: 'a@example.com',
  failures: 0,
  step: 1,
  locked_until: null,
  permanent: false,
  ...over,
});

describe('lockouts (GET /admin/lockouts items)', () => {
  it('a lock until a future time locks; a past one does not', () => {
    expect(isLocked(entry({ locked_until: '2026-01-01T12:00:30Z' }), NOW)).toBe(true);
    expect(isLocked(entry({ locked_until: '2026-01-01T11:59:30Z' }), NOW)).toBe(false);
    expect(isLocked(entry({ locked_until: null, failures: 2 }), NOW)).toBe(false);
  });

  it('a permanent lock always locks', () => {
    expect(isLocked(entry({ permanent: true, locked_until: null }), NOW)).toBe(true);
    expect(lockState(entry({ permanent: true }), NOW)).toBe('permanent');
    expect(lockState(entry({ locked_until: '2026-01-01T12:05:00Z' }), NOW)).toBe('locked');
    expect(lockState(entry({ failures: 1 }), NOW)).toBe('not locked');
  });

  it('maps locked known users by id, skipping unknown emails and expired locks', () => {
    const m = lockedUsers(
      [
        entry({ user_id: 'u1', locked_until: '2026-01-01T12:00:30Z' }),
        entry({ user_id: null, email: 'ghost@example.com', permanent: true }),
        entry({ user_id: 'u3', locked_until: '2026-01-01T11:00:00Z' }),
      ],
      NOW,
    );
    expect([...m.keys()]).toEqual(['u1']);
  });
});

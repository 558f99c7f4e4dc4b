import { describe, expect, it } from 'vitest';
import { activeCount, expiryOf, parseAllowedIps, scopesToSend } from './apiKeys';

describe('the API-key form rules', () => {
  it('splits allowed networks on commas, spaces and lines, dropping blanks', () => {
    expect(parseAllowedIps('')).toEqual([]);
    expect(parseAllowedIps(' 203.0.113.0/24, 10.0.0.1\n\n2001:db8::/32 ,')).toEqual([
      '203.0.113.0/24',
      '10.0.0.1',
      '2001:db8::/32',
    ]);
  });

  it('sends the chosen number of days from now, and nothing for never', () => {
    const now = new Date('2030-05-01T12:00:00Z');
    expect(expiryOf('', now)).toBeUndefined();
    expect(expiryOf('30', now)).toBe('2030-05-31T12:00:00.000Z');
    expect(expiryOf('nonsense', now)).toBeUndefined();
  });

  it('leaves scopes out when all of the owner’s are ticked, and never sends one the owner lacks', () => {
    const own = ['orders:read', 'orders:write'];
    expect(scopesToSend(own, own)).toBeUndefined();
    expect(scopesToSend(['orders:read'], own)).toEqual(['orders:read']);
    expect(scopesToSend(['orders:read', 'users:manage'], own)).toEqual(['orders:read']);
    expect(scopesToSend([], own)).toEqual([]);
  });

  it('counts the keys that still work towards the cap', () => {
    const now = Date.parse('2030-05-01T12:00:00Z');
    const keys = [{ expires_at: null }, { expires_at: '2030-05-01T11:00:00Z' }, { expires_at: '2030-06-01T00:00:00Z' }];
    expect(activeCount(keys, now)).toBe(2);
  });
});

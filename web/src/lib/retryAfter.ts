/** The "try again in N s" wait after a 423 (lockout) or 429 (rate limit), and what to announce of it. */
import { useCallback, useEffect, useState } from 'react';

export interface RetryAfter {
  /** Whole seconds left (0 when not waiting). */
  seconds: number;
  active: boolean;
  /** A wait ran to its end since the last `start`/`reset` (the form may be used again). */
  over: boolean;
  start: (seconds: number | null) => void;
  reset: () => void;
}

type State = { kind: 'idle' } | { kind: 'waiting'; until: number; now: number } | { kind: 'over' };

const TICK_MS = 250;

/** A wait of `Retry-After` seconds that counts down and ends by itself. */
export function useRetryAfter(): RetryAfter {
  const [state, setState] = useState<State>({ kind: 'idle' });
  const until = state.kind === 'waiting' ? state.until : null;

  useEffect(() => {
    if (until === null) return;
    const id = setInterval(() => {
      const now = Date.now();
      setState((s) => (s.kind !== 'waiting' ? s : now >= s.until ? { kind: 'over' } : { ...s, now }));
    }, TICK_MS);
    return () => clearInterval(id);
  }, [until]);

  const start = useCallback((s: number | null) => {
    const now = Date.now();
    setState(s && s > 0 ? { kind: 'waiting', until: now + s * 1000, now } : { kind: 'idle' });
  }, []);
  const reset = useCallback(() => setState({ kind: 'idle' }), []);

  const seconds = state.kind === 'waiting' ? Math.max(0, Math.ceil((state.until - state.now) / 1000)) : 0;
  return { seconds, active: seconds > 0, over: state.kind === 'over', start, reset };
}

/**
 * What a screen reader hears of a countdown: not every second (that would drown everything
 * else) but every 10 s in the last minute, every minute before, and once when it is over.
 */
export function countdownAnnouncement(seconds: number, over: boolean, what = 'try again'): string {
  if (seconds <= 0) return over ? `You can ${what} now.` : '';
  if (seconds <= 60) return `You can ${what} in ${Math.ceil(seconds / 10) * 10} seconds or less.`;
  const minutes = Math.ceil(seconds / 60);
  return `You can ${what} in ${minutes} minutes or less.`;
}

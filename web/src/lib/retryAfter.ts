import { useCallback, useState } from 'react';
import { useCountdown } from './hooks';

/** A "try again in N s" lock driven by a Retry-After header. */
export function useRetryAfter() {
  const [until, setUntil] = useState<number | null>(null);
  const seconds = useCountdown(until);
  const start = useCallback((s: number | null) => setUntil(s && s > 0 ? Date.now() + s * 1000 : null), []);
  const reset = useCallback(() => setUntil(null), []);
  return { seconds, active: seconds > 0, start, reset };
}

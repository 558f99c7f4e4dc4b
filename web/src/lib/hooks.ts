import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError } from '../api/problem';
import type { Page } from '../api/types';

/** The current time, re-rendered every `intervalMs`. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(id);
  }, [intervalMs]);
  return now;
}

/** Seconds left until `until` (epoch ms), ticking; 0 when past or null. */
export function useCountdown(until: number | null): number {
  const tick = useNow(until ? 250 : 60_000);
  if (!until) return 0;
  // `tick` may be up to a minute old on the render that sets `until` (the slow interval ran
  // until then): never count from before the present.
  const now = Math.max(tick, Date.now());
  return Math.max(0, Math.ceil((until - now) / 1000));
}

export interface Query<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
  setData: (fn: (prev: T | null) => T | null) => void;
}

/** Runs `fetcher` on mount and whenever `deps` change; keeps loading / error / data. */
export function useQuery<T>(fetcher: () => Promise<T>, deps: unknown[]): Query<T> {
  const [data, setDataState] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [nonce, setNonce] = useState(0);
  const fetchRef = useRef(fetcher);
  fetchRef.current = fetcher;

  useEffect(() => {
    let alive = true;
    setLoading(true);
    setError(null);
    fetchRef.current().then(
      (d) => {
        if (!alive) return;
        setDataState(d);
        setLoading(false);
      },
      (e: unknown) => {
        if (!alive) return;
        setError(describeError(e));
        setLoading(false);
      },
    );
    return () => {
      alive = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, nonce]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  const setData = useCallback((fn: (prev: T | null) => T | null) => setDataState(fn), []);
  return { data, error, loading, reload, setData };
}

export interface Paged<T> {
  items: T[];
  error: string | null;
  loading: boolean;
  loadingMore: boolean;
  hasMore: boolean;
  loadMore: () => void;
  reload: () => void;
  update: (fn: (items: T[]) => T[]) => void;
}

/** A cursor-paged list (`{items, next_cursor}`) with "load more". */
export function usePaged<T>(fetchPage: (cursor: string | null) => Promise<Page<T>>, deps: unknown[]): Paged<T> {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [nonce, setNonce] = useState(0);
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;
  const gen = useRef(0);

  useEffect(() => {
    const g = ++gen.current;
    setLoading(true);
    setError(null);
    fetchRef.current(null).then(
      (page) => {
        if (g !== gen.current) return;
        setItems(page.items ?? []);
        setCursor(page.next_cursor ?? null);
        setLoading(false);
      },
      (e: unknown) => {
        if (g !== gen.current) return;
        setError(describeError(e));
        setItems([]);
        setCursor(null);
        setLoading(false);
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, nonce]);

  const loadMore = useCallback(() => {
    if (!cursor || loadingMore) return;
    const g = gen.current;
    setLoadingMore(true);
    fetchRef.current(cursor).then(
      (page) => {
        if (g !== gen.current) return;
        setItems((prev) => [...prev, ...(page.items ?? [])]);
        setCursor(page.next_cursor ?? null);
        setLoadingMore(false);
      },
      (e: unknown) => {
        if (g !== gen.current) return;
        setError(describeError(e));
        setLoadingMore(false);
      },
    );
  }, [cursor, loadingMore]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  const update = useCallback((fn: (items: T[]) => T[]) => setItems(fn), []);
  return { items, error, loading, loadingMore, hasMore: !!cursor, loadMore, reload, update };
}

/** Data and state hooks shared by the pages: clocks, queries, paged lists and actions. */
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type DependencyList } from 'react';
import { describeError } from '../api/problem';

/** The current time, re-rendered every `intervalMs`. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(id);
  }, [intervalMs]);
  return now;
}

/** The latest value of `value`, for callbacks that run later (fetches, timers). */
function useLatest<T>(value: T) {
  const ref = useRef(value);
  useLayoutEffect(() => {
    ref.current = value;
  });
  return ref;
}

export interface Query<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
  setData: (fn: (prev: T | null) => T | null) => void;
}

/** Runs `fetcher` on mount and whenever `deps` change; keeps loading / error / data. */
export function useQuery<T>(fetcher: () => Promise<T>, deps: DependencyList): Query<T> {
  const [data, setDataState] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [nonce, setNonce] = useState(0);
  const fetchRef = useLatest(fetcher);

  useEffect(() => {
    let alive = true;
    // A new fetch starts now: show it at once rather than the previous answer's state.
    // eslint-disable-next-line react-hooks/set-state-in-effect
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
    // The caller's `deps` decide when to fetch again (like useEffect's); `fetcher` is read fresh.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, nonce]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  const setData = useCallback((fn: (prev: T | null) => T | null) => setDataState(fn), []);
  return { data, error, loading, reload, setData };
}

/** One page of a list answer: `{items, next_cursor}`. */
export interface PageOf<T> {
  items: T[];
  next_cursor?: string | null;
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
export function usePaged<T>(fetchPage: (cursor: string | null) => Promise<PageOf<T>>, deps: DependencyList): Paged<T> {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [nonce, setNonce] = useState(0);
  const fetchRef = useLatest(fetchPage);
  /** Bumped by every first-page fetch, so a late page of an older list is dropped. */
  const gen = useRef(0);

  useEffect(() => {
    const g = ++gen.current;
    // A new list starts now (new filters, tenant or reload): show it loading at once.
    // eslint-disable-next-line react-hooks/set-state-in-effect
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
    // The caller's `deps` decide when to fetch again (like useEffect's); `fetchPage` is read fresh.
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
  }, [cursor, loadingMore, fetchRef]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  const update = useCallback((fn: (items: T[]) => T[]) => setItems(fn), []);
  return { items, error, loading, loadingMore, hasMore: !!cursor, loadMore, reload, update };
}

/** The outcome of the last action, shown to the user (and announced: see `LiveMessage`). */
export interface Message {
  kind: 'success' | 'error';
  text: string;
}

export interface Action {
  /** The key of the action under way (a row id, a button name), or null. */
  busy: string | null;
  /** The outcome of the last action. */
  message: Message | null;
  /**
   * Runs `fn` as action `key`: marks it busy, clears the last message, and then shows the text
   * `fn` returns as a success, or the error (`errorText(e)` when it has one, else the server's
   * words). Resolves to whether `fn` succeeded; never rejects.
   */
  run: (
    key: string,
    fn: () => Promise<string | void>,
    errorText?: (e: unknown) => string | undefined,
  ) => Promise<boolean>;
  setMessage: (m: Message | null) => void;
}

/** Busy and outcome state of a page's actions (buttons and forms that call the API). */
export function useAction(): Action {
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<Message | null>(null);
  const run = useCallback<Action['run']>(async (key, fn, errorText) => {
    setBusy(key);
    setMessage(null);
    try {
      const text = await fn();
      if (text) setMessage({ kind: 'success', text });
      return true;
    } catch (e) {
      setMessage({ kind: 'error', text: errorText?.(e) ?? describeError(e) });
      return false;
    } finally {
      setBusy(null);
    }
  }, []);
  return { busy, message, run, setMessage };
}

/** Cross-tab auth events over BroadcastChannel('tradesage-auth'). Never carries tokens. */
export type AuthMessage = { type: 'logout'; reason?: string } | { type: 'login' };

export const AUTH_CHANNEL = 'tradesage-auth';

export interface AuthChannel {
  post(msg: AuthMessage): void;
  close(): void;
}

export function openAuthChannel(onMessage: (msg: AuthMessage) => void): AuthChannel {
  if (typeof BroadcastChannel === 'undefined') return { post: () => undefined, close: () => undefined };
  const ch = new BroadcastChannel(AUTH_CHANNEL);
  ch.onmessage = (ev: MessageEvent) => {
    const data = ev.data as Partial<AuthMessage> | null;
    if (data && (data.type === 'logout' || data.type === 'login')) onMessage(data as AuthMessage);
  };
  return {
    post: (msg) => {
      try {
        ch.postMessage(msg);
      } catch {
        /* channel closed */
      }
    },
    close: () => ch.close(),
  };
}

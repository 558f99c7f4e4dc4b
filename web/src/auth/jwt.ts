/** Reads (does not verify) the claims of a JWT, for display only. */
export function jwtClaims(token: string | null | undefined): Record<string, unknown> | null {
  if (!token) return null;
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const b64 = part
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(part.length / 4) * 4, '=');
    const json = new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
    const claims: unknown = JSON.parse(json);
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The `scope` claim of an access token as a list, or null when unreadable. */
export function tokenScopes(token: string | null | undefined): string[] | null {
  const scope = jwtClaims(token)?.scope;
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : null;
}

// Credentials: the `Authorization` header read, the tokens the stand-in issues, and the API key each belongs to.
import { json } from './http.js'
import { keepNewest, nonce } from './ids.js'
import { INVALID_API_KEY, INVALID_TOKEN } from './problems.js'

/**
 * The credential a request carried, as the stand-in judged it: the JSON body on `/auth/api-key` (`'api-key'`) and
 * `/auth/refresh` (`'refresh-token'`), the `Authorization` header elsewhere (`'basic'`, `'bearer'`, another scheme
 * `'other'`), or nothing at all (`'none'`).
 */
export type Credential = 'api-key' | 'refresh-token' | 'basic' | 'bearer' | 'other' | 'none'

/** The `Authorization` header: its scheme, and what it carries. */
export type Authorization =
  { kind: 'basic'; user: string; password: string } | { kind: 'bearer'; token: string } | { kind: 'other' | 'none' }

/** What `/auth/api-key` and `/auth/refresh` answer: a token pair, as api.video's OpenAPI document describes it. */
export interface TokenPair {
  token_type: 'Bearer'
  expires_in: number
  access_token: string
  refresh_token: string
}

/** At most this many live access tokens, and as many refresh tokens, are kept; the oldest are forgotten first. */
const MAX_TOKENS = 10_000

/** The `Authorization` header's scheme and credentials; Basic credentials are `base64("user:password")` in UTF-8. */
export function readAuthorization(header: string | null): Authorization {
  if (!header) return { kind: 'none' }
  const bearer = /^Bearer +(\S+)$/i.exec(header)
  if (bearer) return { kind: 'bearer', token: bearer[1] ?? '' }
  const encoded = /^Basic +(\S*)$/i.exec(header)?.[1]
  if (encoded === undefined) return { kind: 'other' }
  let decoded: string
  try {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new TypeError('not base64')
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0)))
  } catch {
    return { kind: 'basic', user: '', password: '' }
  }
  const colon = decoded.indexOf(':')
  return colon < 0
    ? { kind: 'basic', user: decoded, password: '' }
    : { kind: 'basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

/**
 * The tokens a stand-in issued, each with the API key it was issued for, so that a request's credential names its
 * key: a `Bearer` token the key that got it, `Basic` credentials their user name.
 */
export function createTokens(apiKeys: string[], now: () => number, lifetime: number) {
  const accessTokens = new Map<string, { expiresAt: number; apiKey: string }>() // oldest first
  const refreshTokens = new Map<string, string>() // refresh token -> API key, oldest first
  let expiresIn = lifetime

  /** A new pair for `apiKey`; expired access tokens are forgotten, then the oldest tokens beyond the cap. */
  function issue(apiKey: string): TokenPair {
    const pair: TokenPair = {
      token_type: 'Bearer',
      expires_in: expiresIn,
      access_token: `at.${nonce()}`,
      refresh_token: `rt.${nonce()}`,
    }
    const at = now()
    accessTokens.set(pair.access_token, { expiresAt: at + expiresIn * 1000, apiKey })
    refreshTokens.set(pair.refresh_token, apiKey)
    for (const [token, { expiresAt }] of accessTokens) {
      if (expiresAt > at) break
      accessTokens.delete(token)
    }
    keepNewest(accessTokens, MAX_TOKENS)
    keepNewest(refreshTokens, MAX_TOKENS)
    return pair
  }

  /** A pair for a known API key; undefined for anything else. */
  function forApiKey(apiKey: unknown): TokenPair | undefined {
    return typeof apiKey === 'string' && apiKeys.includes(apiKey) ? issue(apiKey) : undefined
  }

  /** A pair for a refresh token it issued, which is then spent; undefined for anything else. */
  function forRefreshToken(refreshToken: unknown): TokenPair | undefined {
    const apiKey = typeof refreshToken === 'string' ? refreshTokens.get(refreshToken) : undefined
    if (apiKey === undefined) return undefined
    refreshTokens.delete(refreshToken as string)
    return issue(apiKey)
  }

  /**
   * The API key a resource request's credential belongs to, or the 401 api.video answers: a `Bearer` token must be
   * live, `Basic` credentials a known key as user name with no password.
   */
  function apiKeyOf(authorization: Authorization): string | Response {
    if (authorization.kind === 'basic') {
      const known = authorization.password === '' && apiKeys.includes(authorization.user)
      return known ? authorization.user : json(401, INVALID_API_KEY)
    }
    const issued = authorization.kind === 'bearer' ? accessTokens.get(authorization.token) : undefined
    return issued && issued.expiresAt > now() ? issued.apiKey : json(401, INVALID_TOKEN)
  }

  return {
    forApiKey,
    forRefreshToken,
    apiKeyOf,
    /** Invalidates every access token issued so far; refresh tokens stay valid. */
    revoke: () => accessTokens.clear(),
    /** The lifetime, in seconds, of the access tokens issued from now on. */
    setExpiresIn: (seconds: number) => void (expiresIn = seconds),
  }
}

/** The tokens of one stand-in. */
export type Tokens = ReturnType<typeof createTokens>

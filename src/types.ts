import type { ErrorCode } from './errors.js'

/** Where and how to build an auth request. */
export interface RequestOptions {
  /** API base, `PRODUCTION_URL` by default; `SANDBOX_URL` or a loopback `http:` URL for tests. */
  baseUrl?: string | URL
  /** Extra headers, such as `AV-Origin-App`. The content type cannot be overridden. */
  headers?: ConstructorParameters<typeof Headers>[0]
}

/** How to send one auth request. */
export interface CallOptions extends RequestOptions {
  /** The fetch to use; `globalThis.fetch` by default, looked up at call time. */
  fetch?: typeof fetch
  /** The caller's cancellation: an abort rejects with the signal's reason. */
  signal?: AbortSignal
  /** Milliseconds per attempt, body included; 10 000 by default. */
  timeout?: number
}

/**
 * A token pair read from api.video. `refreshToken` is not enumerable, so `JSON.stringify`,
 * `inspect` and object spread leave it out; read it by name.
 */
export interface AccessToken {
  accessToken: string
  refreshToken: string
  tokenType: string
  /** Lifetime in seconds, as api.video sent it. */
  expiresIn: number
  /** Epoch ms: the moment the request was sent plus `expiresIn`. */
  expiresAt: number
}

/** api.video's problem body (`application/json` or `application/problem+json`). */
export interface ProblemDetails {
  type?: string
  title?: string
  name?: string
  status?: number
  problems?: ProblemDetails[]
}

/** What a session reports. Events carry codes, times and counts, never a secret. */
export interface SessionEvent {
  type:
    | 'authenticated'
    | 'refreshed'
    | 'refresh-rejected'
    | 'retry'
    | 'failed'
    | 'served-stale'
    | 'clock-jump'
    | 'shared'
    | 'store-error'
  /** Epoch ms from the session's clock. */
  at: number
  code?: ErrorCode
  /** Retries so far, for `retry` and `failed`. */
  attempt?: number
  /** Milliseconds before the next attempt, for `retry`. */
  delay?: number
  /** Expiry of the token concerned, for `authenticated`, `refreshed` and `served-stale`. */
  expiresAt?: number
}

/** A token as sessions share it: the access token and its times (epoch ms, session clock), never a refresh token. */
export interface SharedToken {
  token: string
  sentAt: number
  expiresAt: number
  dueAt: number
}

/** What a session lends its share hook, once, inside `createSession`. */
export interface ShareContext {
  /** The session's API key: derive from it, never store it. */
  apiKey: string
  /** The normalised base URL, no trailing slash. */
  baseUrl: string
  /** Milliseconds; bound every store call by it. */
  timeout: number
  now: () => number
  emit: (type: 'store-error') => void
}

/** The share hook's answer: `take` before a renewal, `put` after it (not awaited). */
export interface TokenShare {
  take(rejected?: string): Promise<SharedToken | undefined>
  put(token: SharedToken): Promise<void>
}

/** Options of `createSession`. */
export interface SessionOptions extends Omit<CallOptions, 'signal'> {
  apiKey: string
  /** Milliseconds before expiry at which renewal starts; 300 000 by default, plus up to 50% jitter. */
  refreshMargin?: number
  /** Extra attempts after a retryable failure; 2 by default. */
  retries?: number
  /** The clock, epoch ms; `Date.now` by default. */
  now?: () => number
  onEvent?: (event: SessionEvent) => void
  /** Shares access tokens (never refresh tokens) between instances: `shareTokens(store)` from `apivideo-auth/share`. */
  share?: (context: ShareContext) => TokenShare
}

/** Per-call options of `session.token()`. */
export interface TokenOptions {
  /** Stops this caller's wait only; a shared renewal goes on for the others. */
  signal?: AbortSignal
  /** Renew even a fresh token, sharing any renewal in flight. */
  forceRefresh?: boolean
}

/** A token source that always hands out a valid access token. */
export interface Session {
  /** The access token, from memory while it is fresh. */
  token(options?: TokenOptions): Promise<string>
  /** `"Bearer <token>"`. */
  authorization(options?: { signal?: AbortSignal }): Promise<string>
  /** fetch with `Authorization` set; a 401 renews (once for many callers) and replays once. */
  fetch(input: Request | string | URL, init?: RequestInit): Promise<Response>
  /**
   * Drops the cached access token; the next call renews. Given the token that was refused
   * (a 401), drops it only if it is still the current one, so many 401s cause one renewal.
   */
  invalidate(token?: string): void
}

import { baseUrl, callOptions, fn, headers, number, object, secret, signal as checkSignal } from './checks.js'
import { send } from './call.js'
import { ApiVideoAuthError, isApiVideoAuthError } from './errors.js'
import { PRODUCTION_URL, authenticateRequest, refreshRequest } from './requests.js'
import type { AccessToken, Session, SessionEvent, SessionOptions, SharedToken as Shared, TokenOptions, TokenShare } from './types.js'
import { abortable, sleep } from './utils.js'

/** A token still valid for longer than this is served when its renewal fails. */
const STALE_FLOOR = 10_000
/** A `Retry-After` up to this many seconds is waited out; a longer one fails at once. */
const MAX_RETRY_AFTER = 10

/**
 * A session: every caller gets a valid access token, and concurrent callers share one request.
 * Lazy (nothing runs until the first call), no timers, secrets kept in this closure only.
 * @example
 * const session = createSession({ apiKey: process.env.APIVIDEO_API_KEY })
 * const response = await session.fetch('https://ws.api.video/videos')
 */
export function createSession(options: SessionOptions): Session {
  const { apiKey, refreshMargin = 300_000, retries = 2, now = Date.now, onEvent, share, ...call } = object('options', options, true)
  // Checked without building a Request: a Worker may create the session at global scope, where a body is not allowed.
  secret('apiKey', apiKey)
  headers(call.headers)
  const endpoint = `${baseUrl(call.baseUrl ?? PRODUCTION_URL)}/auth/api-key`
  const { timeout = 10_000 } = call
  callOptions(call)
  number('refreshMargin', refreshMargin)
  number('retries', retries, 0, true)
  fn('now', now)
  fn('onEvent', onEvent)
  fn('share', share)

  const shared: TokenShare | undefined = share?.({ apiKey, baseUrl: endpoint.slice(0, -'/auth/api-key'.length), timeout, now, emit })
  let cached: Shared | undefined
  let refreshToken: string | undefined
  let renewal: Promise<string> | undefined
  let blockedUntil = 0
  let rejected: string | undefined
  let authorized: Promise<typeof import('./fetch.js')> | undefined

  function emit(type: SessionEvent['type'], details?: Omit<SessionEvent, 'type' | 'at'>): void {
    try {
      onEvent?.({ type, at: now(), ...details })
    } catch {}
  }

  /** The renewal rule: a cached token is served until it is due; one from before a clock jump is dropped. */
  function fresh(at: number): Shared | undefined {
    if (cached && at < cached.sentAt) {
      cached = undefined
      emit('clock-jump')
    }
    return cached && at < cached.dueAt ? cached : undefined
  }

  function keep(token: AccessToken, type: 'authenticated' | 'refreshed'): string {
    const life = token.expiresIn * 1000
    const { expiresAt } = token
    const margin = Math.min(refreshMargin * (1 + Math.random() / 2), life / 2)
    refreshToken = token.refreshToken
    cached = { token: token.accessToken, sentAt: expiresAt - life, expiresAt, dueAt: expiresAt - margin }
    emit(type, { expiresAt })
    return token.accessToken
  }

  /**
   * One grant: the latest refresh token if there is one, else the API key. A refresh token counts
   * as spent once sent, unless a 429 shows it was turned away before use.
   */
  async function grant(): Promise<string> {
    const spent = refreshToken
    refreshToken = undefined
    if (spent) {
      try {
        return keep(await send(refreshRequest(spent, call), call, true, spent, now), 'refreshed')
      } catch (error) {
        const { code } = error as ApiVideoAuthError
        if (code === 'RATE_LIMITED') refreshToken = spent
        if (code !== 'INVALID_REFRESH_TOKEN') throw error
        emit('refresh-rejected')
      }
    }
    return keep(await send(authenticateRequest(apiKey, call), call, false, apiKey, now), 'authenticated')
  }

  /** The retry policy: milliseconds before the next attempt, or undefined to give up. */
  function retryDelay(error: unknown, attempt: number): number | undefined {
    if (!isApiVideoAuthError(error) || !error.retryable) return undefined
    const { retryAfter } = error
    if (retryAfter! > MAX_RETRY_AFTER) blockedUntil = now() + retryAfter! * 1000
    else if (attempt < retries) return retryAfter !== undefined ? retryAfter * 1000 : Math.random() * Math.min(4_000, 250 * 2 ** attempt)
    return undefined
  }

  async function obtain(force?: boolean): Promise<string> {
    const found = shared && !force && (await shared.take(rejected))
    if (found) {
      cached = found
      emit('shared', { expiresAt: found.expiresAt })
      return found.token
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const wait = (blockedUntil - now()) / 1000
        if (wait > 0) throw new ApiVideoAuthError('RATE_LIMITED', { status: 429, retryAfter: wait })
        const token = await grant()
        if (shared && cached) shared.put(cached).catch(() => emit('store-error'))
        return token
      } catch (error) {
        const delay = retryDelay(error, attempt)
        const code = (error as ApiVideoAuthError).code
        if (delay === undefined) {
          emit('failed', { code, attempt })
          throw error
        }
        emit('retry', { code, attempt: attempt + 1, delay })
        await sleep(delay)
      }
    }
  }

  /** A renewal shared by every caller while it runs, forgotten as soon as it settles. */
  async function run(force?: boolean): Promise<string> {
    try {
      return await obtain(force)
    } catch (error) {
      const at = now()
      const stale = fresh(at) ?? cached
      if (stale && stale.expiresAt - at > STALE_FLOOR) {
        emit('served-stale', { code: (error as ApiVideoAuthError).code, expiresAt: stale.expiresAt })
        return stale.token
      }
      throw error
    } finally {
      renewal = undefined
    }
  }

  async function token(options?: TokenOptions): Promise<string> {
    const { signal, forceRefresh } = object('options', options)
    checkSignal(signal)
    if (signal?.aborted) throw signal.reason
    const hit = !forceRefresh && fresh(now())
    if (hit) return hit.token
    renewal ??= run(forceRefresh)
    return signal ? abortable(renewal, signal) : renewal
  }

  const session: Session = Object.freeze({
    token,
    authorization: async (options?: { signal?: AbortSignal }) => `Bearer ${await token(options)}`,
    fetch: async (input: Request | string | URL, init?: RequestInit) => (await (authorized ??= import('./fetch.js'))).authorizedFetch(session, call.fetch, input, init),
    invalidate: (rejectedToken?: string) => {
      // The dropped token is never taken back from a store: a plain invalidate() follows a 401 too.
      rejected = rejectedToken ?? cached?.token ?? rejected
      if (cached?.token === rejected) cached = undefined
    },
  })
  return session
}

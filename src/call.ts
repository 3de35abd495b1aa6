import { callOptions, object, signal as checkSignal } from './checks.js'
import { ApiVideoAuthError } from './errors.js'
import { authenticateRequest, refreshRequest } from './requests.js'
import { read } from './token.js'
import type { AccessToken, CallOptions } from './types.js'

/**
 * Exchanges an API key for a token pair: one attempt, bounded by `timeout`.
 * @example
 * const { accessToken, expiresAt } = await authenticate(process.env.APIVIDEO_API_KEY, { timeout: 5_000 })
 */
export function authenticate(apiKey: string, options?: CallOptions): Promise<AccessToken> {
  return send(() => authenticateRequest(apiKey, options), options, false, apiKey)
}

/**
 * Exchanges a refresh token for a new pair (api.video rotates it: keep the new one). One attempt.
 * @example
 * token = await refresh(token.refreshToken)
 */
export function refresh(refreshToken: string, options?: CallOptions): Promise<AccessToken> {
  return send(() => refreshRequest(refreshToken, options), options, true, refreshToken)
}

/**
 * Builds, sends and reads one request. The caller's abort rejects with its reason; the timeout
 * covers the body too, and holds even against a fetch that ignores its signal.
 */
export async function send(
  build: () => Request,
  options: CallOptions | undefined,
  refresh: boolean,
  secret: string,
  now: () => number = Date.now,
): Promise<AccessToken> {
  const request = build()
  const opts = object('options', options)
  const signal = checkSignal(opts.signal)
  callOptions(opts)
  if (signal?.aborted) throw signal.reason
  const { fetch: fetchFn = globalThis.fetch, timeout = 10_000 } = opts
  const controller = new AbortController()
  let stop!: (reason: unknown) => void
  const stopped = new Promise<never>((_, reject) => {
    stop = (reason) => {
      controller.abort(reason)
      reject(reason)
    }
  })
  const onAbort = () => stop(signal!.reason)
  const timer = setTimeout(() => stop(new ApiVideoAuthError('TIMEOUT')), timeout)
  signal?.addEventListener('abort', onAbort)
  const sentAt = now()
  const work = (async () => read(await fetchFn(request, { signal: controller.signal }), sentAt, refresh, secret))()
  work.catch(() => {})
  try {
    return await Promise.race([work, stopped])
  } catch (error) {
    if (controller.signal.aborted) throw controller.signal.reason
    throw error instanceof ApiVideoAuthError ? error : new ApiVideoAuthError('NETWORK_ERROR', { cause: error })
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}

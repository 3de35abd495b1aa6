import { callOptions } from './checks.js'
import { ApiVideoAuthError } from './errors.js'
import { authenticateRequest, refreshRequest } from './requests.js'
import { read } from './token.js'
import type { AccessToken, CallOptions } from './types.js'
import { abortable } from './utils.js'

/**
 * Exchanges an API key for a token pair: one attempt, bounded by `timeout`.
 * @example
 * const { accessToken, expiresAt } = await authenticate(process.env.APIVIDEO_API_KEY, { timeout: 5_000 })
 */
export async function authenticate(apiKey: string, options?: CallOptions): Promise<AccessToken> {
  return send(authenticateRequest(apiKey, options), options, false, apiKey)
}

/**
 * Exchanges a refresh token for a new pair (api.video rotates it: keep the new one). One attempt.
 * @example
 * token = await refresh(token.refreshToken)
 */
export async function refresh(refreshToken: string, options?: CallOptions): Promise<AccessToken> {
  return send(refreshRequest(refreshToken, options), options, true, refreshToken)
}

/**
 * Sends one request and reads it. The caller's abort rejects with its reason; the timeout
 * covers the body too, and holds even against a fetch that ignores its signal.
 */
export async function send(request: Request, options: CallOptions = {}, refresh: boolean, secret: string, now = Date.now): Promise<AccessToken> {
  callOptions(options)
  const { fetch: fetchFn = globalThis.fetch, signal, timeout = 10_000 } = options
  if (signal?.aborted) throw signal.reason
  const controller = new AbortController()
  const onAbort = () => controller.abort(signal!.reason)
  const timer = setTimeout(() => controller.abort(new ApiVideoAuthError('TIMEOUT')), timeout)
  signal?.addEventListener('abort', onAbort)
  const sentAt = now()
  try {
    return await abortable((async () => read(await fetchFn(request, { signal: controller.signal }), sentAt, refresh, secret))(), controller.signal)
  } catch (error) {
    throw controller.signal.aborted || error instanceof ApiVideoAuthError ? error : new ApiVideoAuthError('NETWORK_ERROR', { cause: error })
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}

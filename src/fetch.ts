import type { Session } from './types.js'

/**
 * `fetch` with the session's bearer token (replacing any `Authorization` given). On a 401 the
 * token is invalidated, which renews it only if it is still the current one, and the request is
 * replayed once with the new token. A `ReadableStream` body cannot be replayed: its 401 is returned.
 * Nothing is copied on the way unless it must be: a `Request` with a body is cloned for the replay.
 * @example
 * const response = await authorizedFetch(session, fetch, 'https://ws.api.video/videos')
 */
export async function authorizedFetch(session: Session, fetchFn: typeof fetch | undefined, input: Request | string | URL, init?: RequestInit): Promise<Response> {
  const request = input instanceof Request ? input : undefined
  if (!request && typeof input !== 'string' && !(input instanceof URL)) throw new TypeError('input must be a URL, a string or a Request')
  if (init !== undefined && (typeof init !== 'object' || !init)) throw new TypeError('init must be an object')
  const signal = init?.signal ?? request?.signal
  const options = signal ? { signal } : undefined
  const replayable = typeof (init?.body as ReadableStream | null)?.getReader !== 'function'
  const spare = replayable && request?.body && init?.body == null ? request.clone() : input
  const send = (target: Request | string | URL, bearer: string) => {
    const headers = new Headers(init?.headers ?? request?.headers)
    headers.set('authorization', `Bearer ${bearer}`)
    return (fetchFn ?? globalThis.fetch)(target, { ...init, headers })
  }
  const used = await session.token(options)
  const response = await send(input, used)
  if (response.status !== 401) return response
  session.invalidate(used)
  if (!replayable) return response
  await response.body?.cancel().catch(() => {})
  return send(spare, await session.token(options))
}

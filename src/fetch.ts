import type { Session } from './types.js'

/**
 * `fetch` with the session's bearer token (replacing any `Authorization` given). On a 401 the
 * token is invalidated, which renews it only if it is still the current one, and the request is
 * replayed once with the new token. A `ReadableStream` body cannot be replayed: its 401 is returned.
 * @example
 * const response = await authorizedFetch(session, fetch, 'https://ws.api.video/videos')
 */
export async function authorizedFetch(session: Session, fetchFn: typeof fetch | undefined, input: Request | string | URL, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init)
  const spare = typeof (init?.body as ReadableStream | null)?.getReader !== 'function' && request.clone()
  const attempt = async (target: Request) => {
    const bearer = await session.token({ signal: request.signal })
    target.headers.set('authorization', `Bearer ${bearer}`)
    return [await (fetchFn ?? globalThis.fetch)(target), bearer] as const
  }
  const [response, used] = await attempt(request)
  if (response.status !== 401) return response
  session.invalidate(used)
  if (!spare) return response
  await response.body?.cancel().catch(() => {})
  return (await attempt(spare))[0]
}

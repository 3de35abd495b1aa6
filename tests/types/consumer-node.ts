// Compiles against dist/index.d.ts under strict + exactOptionalPropertyTypes with @types/node:
// a Node user passing undici's own fetch (the types accept it; at run time it needs undici's own Request, so
// docs/session.md says to pass `(request) => fetch(request, { dispatcher })`). Checked by tests/types/check.mjs.
import { fetch as undiciFetch } from 'undici'
import { authenticate, createSession, refresh } from '../../dist/index.js'

export const session = createSession({ fetch: undiciFetch, baseUrl: process.env.API_BASE })

export async function calls(): Promise<string> {
  const token = await authenticate('key', { fetch: undiciFetch, baseUrl: process.env.API_BASE })
  await refresh(token.refreshToken, { fetch: undiciFetch })
  const response = await session.fetch('/videos')
  return response.statusText
}

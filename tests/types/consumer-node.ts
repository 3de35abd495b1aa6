// Compiles against dist/index.d.ts under strict + exactOptionalPropertyTypes with @types/node:
// a Node user passing undici's own fetch. Checked by tests/types/check.mjs; never run.
import { fetch as undiciFetch } from 'undici'
import { authenticate, createSession, refresh } from '../../dist/index.js'

export const session = createSession({ fetch: undiciFetch, baseUrl: process.env.API_BASE })

export async function calls(): Promise<string> {
  const token = await authenticate('key', { fetch: undiciFetch, baseUrl: process.env.API_BASE })
  await refresh(token.refreshToken, { fetch: undiciFetch })
  const response = await session.fetch('/videos')
  return response.statusText
}

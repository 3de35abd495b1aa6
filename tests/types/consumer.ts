// Compiles against dist/index.d.ts under strict + exactOptionalPropertyTypes, DOM types only (no @types/node):
// what an edge or browser-bundled user writes. Checked by tests/types/check.mjs; never run.
import { SANDBOX_URL, authenticate, createSession, type SessionOptions } from '../../dist/index.js'

// A bundler's or Deno's `process`, without @types/node.
declare const process: { env: Record<string, string | undefined> }

// The quick start as written: the key from APIVIDEO_API_KEY.
export const quickStart = createSession()

// Optional properties accept undefined (exactOptionalPropertyTypes): values read from the environment.
export const fromEnvironment = createSession({
  apiKey: process.env.APIVIDEO_API_KEY,
  baseUrl: process.env.API_BASE,
  timeout: undefined,
  refreshMargin: undefined,
  retries: undefined,
  headers: undefined,
  now: undefined,
  onEvent: undefined,
  fetch: undefined,
})

// A fetch wrapper with the (request, init?) shape the core calls it with.
export const wrapped = createSession({
  apiKey: 'key',
  baseUrl: SANDBOX_URL,
  fetch: (req: Request, init?: RequestInit) => globalThis.fetch(req, init),
})

// One that drops init is fine too.
export const dropsInit = createSession({ fetch: (req: Request) => globalThis.fetch(req) })

export async function calls(signal: AbortSignal | undefined): Promise<string> {
  await authenticate('key', { baseUrl: process.env.API_BASE, signal, timeout: undefined, headers: undefined })
  return quickStart.token({ signal, forceRefresh: undefined })
}

// The types still catch mistakes (they are not `any`).
// @ts-expect-error a typo is an excess property
export const typo: SessionOptions = { apiKey: 'key', baseURL: 'https://ws.api.video' }
// @ts-expect-error the key is a string
export const wrongType = createSession({ apiKey: 123 })

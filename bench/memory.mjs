// Memory (child process, --expose-gc): retained heap per session holding a cached token, token strings aside.
import { createSession } from '../dist/index.js'

const SESSIONS = 10_000
const BODY = JSON.stringify({ token_type: 'Bearer', expires_in: 3600, access_token: 'a', refresh_token: 'r' })
const fetchToken = async () => new Response(BODY, { status: 200, headers: { 'content-type': 'application/json' } })

/**
 * Heap in use after garbage collection. Each collection is followed by a turn of the event loop, so pending
 * FinalizationRegistry callbacks run as they do in any live process: undici's `Request` registers the signal it
 * follows with one, and until that callback runs the registry still holds each exchange's AbortController and
 * listeners (about 1.9 KB a session), which are garbage.
 */
async function heap() {
  for (let i = 0; i < 6; i++) {
    globalThis.gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return process.memoryUsage().heapUsed
}

/** Heap retained by what `fill(slots)` stores in slots preallocated before the first reading. */
async function retained(length, fill) {
  const slots = Array.from({ length }, () => 0)
  await fill(slots) // warm-up: compiles the code and creates its shared objects once
  slots.fill(0)
  const before = await heap()
  await fill(slots)
  const after = await heap()
  if (slots.some((s) => s === 0)) throw new Error('a slot was left empty')
  return after - before
}

// The token strings alone, parsed the way a session gets them: one access and one refresh token per session.
const strings = await retained(SESSIONS * 2, async (slots) => {
  for (let i = 0; i < SESSIONS; i++) {
    const { access_token, refresh_token } = await (await fetchToken()).json()
    slots[2 * i] = access_token
    slots[2 * i + 1] = refresh_token
  }
})

const sessions = await retained(SESSIONS, async (slots) => {
  for (let i = 0; i < SESSIONS; i++) slots[i] = createSession({ apiKey: 'test-key', fetch: fetchToken })
  const tokens = await Promise.all(slots.map((s) => s.token()))
  if (tokens.some((t) => t !== 'a')) throw new Error('a session has no token')
})

console.log(
  JSON.stringify({
    sessions: SESSIONS,
    perSession: sessions / SESSIONS,
    tokenStringsPerSession: strings / SESSIONS,
    beyondStrings: (sessions - strings) / SESSIONS,
  }),
)

// One instance of the Deno KV fleet: a Deno process whose session shares its token through a local KV
// file with apivideo-auth/share (the docs' Deno KV recipe). Driven by its parent over stdin/stdout:
// it prints `ready`, then for each `burst <offset>` line one JSON line of what its callers got; `exit` ends it.
import { createSession } from '../../dist/index.js'
import { shareTokens } from '../../dist/share.js'

const env = (name: string) => Deno.env.get(name) ?? ''

// The docs' Deno KV recipe. KV keeps an expired entry readable until its background sweep deletes it,
// so a lease carries its own expiry and `claim` replaces an expired one by checking its versionstamp:
// an atomic check-and-set either way (versionstamp null: no lease yet). A local KV file shared by several
// processes answers "database is locked" while another holds it, opening it too (four processes opening it at
// once failed once in CI): quick retries at random intervals, for a second at most (the add-on bounds each call).
async function retried<T>(run: () => Promise<T>): Promise<T> {
  for (const deadline = Date.now() + 1_000; ;) {
    try {
      return await run()
    } catch (error) {
      if (Date.now() > deadline || !String(error).includes('database is locked')) throw error
      await new Promise((resolve) => setTimeout(resolve, 5 + 20 * Math.random()))
    }
  }
}
const kv = await retried(() => Deno.openKv(env('KV_PATH')))
const store = {
  get: (key: string) => retried(async () => (await kv.get<string>(['apivideo-auth', key])).value),
  set: (key: string, value: string, ttlMs: number) =>
    retried(() => kv.set(['apivideo-auth', key], value, { expireIn: ttlMs })),
  claim: (key: string, ttlMs: number) =>
    retried(async () => {
      const lease = await kv.get<number>(['apivideo-auth', key])
      if (lease.value !== null && lease.value > Date.now()) return false
      const { ok } = await kv
        .atomic()
        .check(lease)
        .set(lease.key, Date.now() + ttlMs, { expireIn: ttlMs })
        .commit()
      return ok
    }),
}

// What the parent wants to know: the keys used, the leases won, the events.
const keys = new Set<string>()
let leasesWon = 0
let events: Record<string, number> = {}
const observed = {
  get: (key: string) => (keys.add(key), store.get(key)),
  set: (key: string, value: string, ttlMs: number) => (keys.add(key), store.set(key, value, ttlMs)),
  claim: async (key: string, ttlMs: number) => {
    const won = await store.claim(key, ttlMs)
    if (won) leasesWon++
    return won
  },
}

let offset = 0
const session = createSession({
  apiKey: env('API_KEY'),
  baseUrl: env('STAND_IN_URL'),
  timeout: Number(env('TIMEOUT')),
  now: () => Date.now() + offset,
  onEvent: (e) => (events[e.type] = (events[e.type] ?? 0) + 1),
  share: shareTokens(observed),
})

// Callers get the held token while it is renewed in the background; a burst reports once that renewal and its store
// write are done, with the token the session then holds.
async function burst() {
  events = {}
  const results = await Promise.allSettled(Array.from({ length: Number(env('CALLERS')) }, () => session.token()))
  const tokens = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  const response = await session.fetch(`${env('STAND_IN_URL')}/videos`).catch(() => undefined)
  await response?.body?.cancel()
  await session.settled()
  const held = await session.token().catch(() => undefined)
  return {
    tokens: [...new Set(tokens)],
    held,
    failures: results.length - tokens.length,
    status: response?.status ?? 0,
    events,
    leasesWon,
    keys: [...keys],
  }
}

const out = new TextEncoder()
const say = (line: string) => Deno.stdout.write(out.encode(`${line}\n`))
await say('ready')
let pending = ''
commands: for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  pending += chunk
  let newline
  while ((newline = pending.indexOf('\n')) >= 0) {
    const [cmd, moved] = pending.slice(0, newline).split(' ')
    pending = pending.slice(newline + 1)
    if (cmd === 'burst') {
      offset = Number(moved)
      await say(JSON.stringify(await burst()))
    } else if (cmd === 'exit') {
      break commands
    }
  }
}
kv.close()

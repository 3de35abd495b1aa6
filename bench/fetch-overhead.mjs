// Authorized fetch overhead (child process): session.fetch against plain fetch with a fixed header,
// to a loopback server in another process, the same number of requests per batch, interleaved batches.
import { createSession } from '../dist/index.js'
import { loopbackServer, median } from './lib.mjs'

const BATCH = 400
const ROUNDS = 30

const server = await loopbackServer()
const session = createSession({ apiKey: 'test-key', baseUrl: server.url })
const bearer = `Bearer ${await session.token()}`
const VARIANTS = {
  session: () => session.fetch('/videos'), // a path relative to baseUrl: apivideo-auth 1.0
  plain: () => fetch(`${server.url}/videos`, { headers: { authorization: bearer } }),
}

async function loop(send, n) {
  const start = performance.now()
  for (let i = 0; i < n; i++) {
    const response = await send()
    if (response.status !== 200) throw new Error(`status ${response.status}`)
    await response.text()
  }
  return performance.now() - start
}

const times = { session: [], plain: [] }
for (let round = -3; round < ROUNDS; round++) {
  const order = round % 2 ? ['session', 'plain'] : ['plain', 'session']
  for (const name of order) {
    const ms = await loop(VARIANTS[name], BATCH)
    if (round >= 0) times[name].push(ms)
  }
}
const { counts } = await server.ask('counts')
await server.close()
const expected = (ROUNDS + 3) * BATCH * 2
if (counts['/videos'] !== expected || counts['/auth/api-key'] !== 1)
  throw new Error(`unexpected counts ${JSON.stringify(counts)}`)
console.log(
  JSON.stringify({
    batch: BATCH,
    rounds: ROUNDS,
    requests: counts,
    perSecond: { session: BATCH / (median(times.session) / 1000), plain: BATCH / (median(times.plain) / 1000) },
    ratio: median(times.session.map((t, i) => t / times.plain[i])),
  }),
)

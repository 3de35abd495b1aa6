// The Deno KV fleet proof: 4 Deno processes × 100 concurrent callers share tokens through one local KV
// file with apivideo-auth/share, against one stand-in served over node:http on 127.0.0.1; this process
// owns the stand-in and counts its auth requests. Run by `npm run test:fleet`; needs only the deno package.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createStandIn } from '../../dist/testing.js'
import { serve } from '../helpers/index.mjs'

const INSTANCES = 4
const CALLERS = 100
const TIMEOUT = 2_000 // per session call, store calls included; also the lease TTL
const RENEWAL = 58 * 60_000 // a clock offset past every due time (52.5-55 min) and before expiry (60 min)
const CHILD_LIMIT = 60_000 // the watchdog kills an instance still alive after this
const DENO = new URL('../../node_modules/.bin/deno', import.meta.url).pathname
const SCRIPT = new URL('./deno-kv-instance.ts', import.meta.url).pathname

const started = Date.now()
const measured = []
const children = new Set()
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')))
setTimeout(() => {
  console.error(`deno-kv fleet: watchdog: still running after 120 s; ${children.size} instance(s) left`)
  process.exit(1)
}, 120_000).unref()

/** A stand-in on 127.0.0.1 whose clock is Date.now() plus `clock.offset`, with an API key of its own. */
async function standIn(name) {
  const clock = { offset: 0 }
  const apiKey = `deno-kv-${name}-${randomBytes(12).toString('hex')}`
  const api = createStandIn({ apiKeys: [apiKey], now: () => Date.now() + clock.offset })
  const server = await serve(api.handler)
  const auth = () => api.requests.filter((r) => r.path.startsWith('/auth/'))
  return { apiKey, clock, url: server.url, port: new URL(server.url).port, close: server.close, auth }
}

/** One Deno process on the KV file in `dir`; `burst(offset)` runs its callers with its clock moved to `offset`. */
function instance(api, dir) {
  const permissions = [
    `--allow-net=127.0.0.1:${api.port}`,
    `--allow-read=${dir}`,
    `--allow-write=${dir}`,
    '--allow-env',
  ]
  const env = {
    ...process.env,
    DENO_NO_UPDATE_CHECK: '1',
    NO_COLOR: '1',
    KV_PATH: join(dir, 'tokens.sqlite3'),
    STAND_IN_URL: api.url,
    API_KEY: api.apiKey,
    TIMEOUT: String(TIMEOUT),
    CALLERS: String(CALLERS),
  }
  const child = spawn(DENO, ['run', '--quiet', '--unstable-kv', '--no-prompt', ...permissions, SCRIPT], {
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  children.add(child)
  const watchdog = setTimeout(() => child.kill('SIGKILL'), CHILD_LIMIT)
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  void exited.then(() => (clearTimeout(watchdog), children.delete(child)))
  const lines = []
  const waiting = []
  let buffered = ''
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    buffered += chunk
    for (let i; (i = buffered.indexOf('\n')) >= 0; buffered = buffered.slice(i + 1)) lines.push(buffered.slice(0, i))
    while (lines.length && waiting.length) waiting.shift().resolve(lines.shift())
  })
  void exited.then(({ code, signal }) =>
    waiting.splice(0).forEach((w) => w.reject(new Error(`instance exited (${code ?? signal})`))),
  )
  const line = () =>
    lines.length
      ? Promise.resolve(lines.shift())
      : new Promise((resolve, reject) => waiting.push({ resolve, reject }))
  return {
    ready: line().then((text) => assert.is(text, 'ready')),
    async burst(offset) {
      child.stdin.write(`burst ${offset}\n`)
      return JSON.parse(await line())
    },
    /** Tells it to stop; it must exit by itself, with code 0. */
    exit: () => (child.stdin.end('exit\n'), exited),
  }
}

function served(reports) {
  for (const r of reports) {
    assert.is(r.failures, 0, 'a caller got an error')
    assert.is(r.tokens.length, 1, 'callers of one instance got different tokens')
    assert.is(r.status, 200, 'the token did not work on /videos')
    assert.not.ok(r.events['share-failed'], `a share-failed: ${JSON.stringify(r)}`)
  }
}

const fleet = suite(`fleet: ${INSTANCES} Deno processes × ${CALLERS} callers, one Deno KV file`)

fleet('with claim, started together: at most 2 auth requests; then at renewal time: at most 2 more', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'apivideo-auth-kv-'))
  const api = await standIn('together')
  try {
    const instances = Array.from({ length: INSTANCES }, () => instance(api, dir))
    await Promise.all(instances.map((i) => i.ready))
    const cold = await Promise.all(instances.map((i) => i.burst(0)))
    served(cold)
    const first = api.auth().length
    measured.push(['claim, 4 started together', first, '<= 2 (aim 1)'])
    assert.ok(first >= 1 && first <= 2, `${first} auth requests`)
    assert.is(new Set(cold.map((r) => r.tokens[0])).size, first)
    assert.is(
      cold.reduce((n, r) => n + (r.events['shared-token-used'] ?? 0), 0),
      INSTANCES - first,
    )
    const keys = new Set(cold.flatMap((r) => r.keys).filter((k) => !k.includes(':lease:')))
    assert.is(keys.size, 1)
    assert.match([...keys][0], /^apivideo-auth:[0-9a-f]{64}$/)

    api.clock.offset = RENEWAL
    const due = await Promise.all(instances.map((i) => i.burst(RENEWAL)))
    served(due)
    // Due, not expiring: callers got the token held while the renewal ran in the background.
    due.forEach((r, i) => assert.is(r.tokens[0], cold[i].tokens[0], 'a caller waited for the renewal'))
    const renewals = api.auth().length - first
    measured.push(['claim, renewal time (clocks +58 min together)', renewals, '<= 2'])
    assert.ok(renewals >= 1 && renewals <= 2, `${renewals} renewals`)
    assert.ok(
      due.every((r) => r.held && r.held !== r.tokens[0]),
      'an instance kept the due token',
    )
    assert.is(new Set(due.map((r) => r.held)).size, renewals)
    for (const { code, signal } of await Promise.all(instances.map((i) => i.exit())))
      assert.equal({ code, signal }, { code: 0, signal: null })
  } finally {
    children.forEach((child) => child.kill('SIGKILL'))
    await api.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

fleet.after(() => {
  console.log(`\ndeno-kv fleet: auth requests measured (${Math.round((Date.now() - started) / 100) / 10} s)`)
  for (const [scenario, count, bound] of measured)
    console.log(`  ${scenario.padEnd(52)} ${String(count).padStart(3)}   (${bound})`)
})

fleet.run()

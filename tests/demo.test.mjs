import { readFileSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { exec } from '../scripts/exec.mjs'

const DEMO = new URL('../scripts/demo.mjs', import.meta.url).pathname
const README = new URL('../README.md', import.meta.url).pathname

/** Runs the demo to completion: exit code and output. A watchdog kills a hung child. */
const runDemo = () => exec(process.execPath, [DEMO], { timeout: 60_000 })

/** The summary table as label -> [apivideo-auth, official client]. */
function summary(stdout) {
  const table = stdout.slice(stdout.indexOf('\nSummary: '))
  const number = (n) => Number(n.replace(/,/g, ''))
  return Object.fromEntries(
    [...table.matchAll(/^ {2,4}(\S.*?) {2,}([\d,]+) {2,}([\d,]+)$/gm)].map(([, label, a, b]) => [
      label.trim(),
      [number(a), number(b)],
    ]),
  )
}

const demo = suite('npm run demo')
let result

demo.before(async () => {
  result = await runDemo()
})

demo('exits 0 with nothing on stderr', () => {
  assert.equal([result.code, result.signal], [0, null], result.stderr)
  assert.is(result.stderr, '')
})

demo(
  'its summary, counted by the stand-ins: the key sent 5 times by the session, 6,960 by the official client',
  () => {
    assert.match(
      result.stdout,
      /\nSummary: 6,960 API calls, each client against its own stand-in, counted by the stand-ins\n/,
    )
    assert.equal(summary(result.stdout), {
      'requests that carried the API key': [5, 6960],
      'auth requests': [17, 0],
      'POST /auth/api-key': [5, 0],
      'POST /auth/refresh': [12, 0],
      'resource requests (GET /videos)': [6970, 6960],
      'callers who got an error': [0, 0],
    })
  },
)

demo("the README's table gives the figures the demo printed", () => {
  const figures = summary(result.stdout)
  const readme = readFileSync(README, 'utf8')
  const row = (label, [ours, official]) => `| ${label} | ${ours} | ${official} |`
  const n = (value) => value.toLocaleString('en-US')
  const key = figures['requests that carried the API key']
  const auth = figures['auth requests']
  const resource = figures['resource requests (GET /videos)']
  for (const line of [
    row('requests that carried the API key', [`**${n(key[0])}**`, `**${n(key[1])}**`]),
    row('auth requests (`/auth/api-key` + `/auth/refresh`)', [
      `${auth[0]} (${figures['POST /auth/api-key'][0]} + ${figures['POST /auth/refresh'][0]})`,
      auth[1],
    ]),
    row('resource requests', [
      `${n(resource[0])} (${resource[0] - resource[1]} replays after a 401)`,
      n(resource[1]),
    ]),
    row('callers who got an error', figures['callers who got an error']),
  ]) {
    assert.ok(readme.includes(line), `README.md lacks the line: ${line}`)
  }
})

demo('no figure counts what a client would do if called another way', () => {
  assert.not.match(result.stdout, /\d+x fewer|same work \*|getAccessToken/)
})

demo('its timeline tells each scripted moment', () => {
  const out = result.stdout
  assert.match(out, /=> 1,000 calls answered 200, after 1 auth request\n/)
  assert.match(out, /\n08:05-08:50 {2}500 API calls with the cached token, no auth request\n/)
  assert.match(out, /POST \/auth\/refresh {2}400\n.*refresh token rejected.*\n.*POST \/auth\/api-key {2}200\n/)
  const rateLimitedThenRetried = new RegExp(
    /POST \/auth\/refresh {2}429\n.*RATE_LIMITED: retry 1 in 1\.00 s, as the server asked\n/.source +
      /.*POST \/auth\/refresh {2}200\n/.source,
  )
  assert.match(out, rateLimitedThenRetried)
  assert.match(
    out,
    /SERVER_ERROR: the renewal failed after 3 attempts\n.*served the current token instead \(valid until 14:30\)/,
  )
  assert.match(out, /GET \/videos {2}401 {2}x10\n.*POST \/auth\/refresh {2}200\n.*\n.*GET \/videos {2}200 {2}x10\n/)
  assert.is((out.match(/the refresh token rotated/g) ?? []).length, 9)
})

demo('prints no key and no token', () => {
  assert.not.match(result.stdout, 'demo-key')
  assert.not.match(result.stdout, /\b[ar]t\.[0-9a-f]{32}\b/)
})

demo.run()

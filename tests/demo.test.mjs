import { spawn } from 'node:child_process'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'

const DEMO = new URL('../scripts/demo.mjs', import.meta.url).pathname

/** Runs the demo to completion: exit code and output. A watchdog kills a hung child. */
function runDemo() {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [DEMO])
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('close', (code, signal) => (clearTimeout(watchdog), resolve({ code, signal, stdout, stderr })))
  })
}

/** The summary table as label -> number. */
function summary(stdout) {
  const table = stdout.slice(stdout.indexOf('\nSummary\n'))
  return Object.fromEntries([...table.matchAll(/^ {2,4}(\S.*?) {2,}([\d,]+)$/gm)].map(([, label, n]) => [label.trim(), Number(n.replace(/,/g, ''))]))
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

demo('its summary: 17 auth requests for 6,970 token calls, and no caller saw an error', () => {
  assert.equal(summary(result.stdout), {
    'callers served': 6960,
    'token calls (one per caller, one per replay)': 6970,
    'auth requests made': 17,
    'POST /auth/api-key': 5,
    'POST /auth/refresh': 12,
    'answered with an error': 5,
    'auth requests, official client, same work *': 6970,
    'callers who got an error': 0,
  })
})

demo('its timeline tells each scripted moment', () => {
  const out = result.stdout
  assert.match(out, /=> 1,000 callers served by 1 request\n/)
  assert.match(out, /POST \/auth\/refresh {2}400\n.*refresh token rejected.*\n.*POST \/auth\/api-key {2}200\n/)
  assert.match(out, /POST \/auth\/refresh {2}429\n.*RATE_LIMITED: retry 1 in 1\.00 s, as the server asked\n.*POST \/auth\/refresh {2}200\n/)
  assert.match(out, /SERVER_ERROR: the renewal failed after 3 attempts\n.*served the current token instead \(valid until 14:30\)/)
  assert.match(out, /GET \/videos {2}401 {2}x10\n.*POST \/auth\/refresh {2}200\n.*\n.*GET \/videos {2}200 {2}x10\n/)
  assert.is((out.match(/the refresh token rotated/g) ?? []).length, 9)
})

demo('prints no key and no token', () => {
  assert.not.match(result.stdout, 'demo-key')
  assert.not.match(result.stdout, /\b[ar]t\.[0-9a-f]{32}\b/)
})

demo.run()

import { spawn } from 'node:child_process'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createStandIn } from '../dist/testing.js'
import { KEY, serve } from './helpers.mjs'

const CHILD = `
import { createSession } from '../dist/index.js'
const session = createSession({ apiKey: ${JSON.stringify(KEY)}, baseUrl: process.env.BASE_URL })
const token = await session.token()
const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout')
console.log(JSON.stringify({ ok: token.length > 0, timers: timers.length }))
`

const exit = suite('process lifetime')

exit('a script that takes a token exits by itself, with no timer left', async () => {
  const standIn = createStandIn()
  const server = await serve(standIn.handler)
  try {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      cwd: new URL('.', import.meta.url),
      env: { ...process.env, BASE_URL: server.url },
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 5_000)
    const [code, signal] = await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])))
    clearTimeout(watchdog)
    assert.is(signal, null, `killed by the watchdog: ${out}`)
    assert.is(code, 0, out)
    assert.equal(JSON.parse(out), { ok: true, timers: 0 })
    assert.equal(
      standIn.requests.map((r) => r.path),
      ['/auth/api-key'],
    )
  } finally {
    await server.close()
  }
})

exit.run()

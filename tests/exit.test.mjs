import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createStandIn } from '../dist/testing.js'
import { exec } from '../scripts/exec.mjs'
import { KEY, serve } from './helpers/index.mjs'

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
    const child = await exec(process.execPath, ['--input-type=module', '-e', CHILD], {
      cwd: new URL('.', import.meta.url),
      env: { BASE_URL: server.url },
      timeout: 5_000,
    })
    assert.is(child.signal, null, `killed by the watchdog: ${child.output}`)
    assert.is(child.code, 0, child.output)
    assert.equal(JSON.parse(child.stdout), { ok: true, timers: 0 })
    assert.equal(
      standIn.requests.map((r) => r.path),
      ['/auth/api-key'],
    )
  } finally {
    await server.close()
  }
})

exit.run()

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ENTRIES, bundle } from '../bench/size.mjs'

// Min+gzip bytes as a quick-start user ships them: esbuild, minified, neutral platform, gzip level 9, of a
// virtual entry re-exporting src/index.ts (the whole core, session.fetch included) or only the two builders.
// The musts of the size issue; `npm run bench` prints them beside their aims.
const CORE_LIMIT = 4_096
const BUILDERS_LIMIT = 700

const size = suite('size')

size(`the whole core in one bundle is at most ${CORE_LIMIT.toLocaleString('en-US')} B min+gzip`, async () => {
  const { gzip } = await bundle(ENTRIES.core)
  assert.ok(gzip <= CORE_LIMIT, `the whole core is ${gzip} B, over ${CORE_LIMIT} B by ${gzip - CORE_LIMIT} B`)
})

size(`the two builders alone are at most ${BUILDERS_LIMIT} B min+gzip`, async () => {
  const { gzip } = await bundle(ENTRIES.builders)
  assert.ok(gzip <= BUILDERS_LIMIT, `the builders are ${gzip} B, over ${BUILDERS_LIMIT} B by ${gzip - BUILDERS_LIMIT} B`)
})

size('the measure is of the whole core: a bundle of only the builders is smaller', async () => {
  const [core, builders] = [await bundle(ENTRIES.core), await bundle(ENTRIES.builders)]
  assert.ok(builders.gzip < core.gzip)
  assert.ok(core.gzip > 1_000, `${core.gzip} B is too small to be the whole core`)
})

size.run()

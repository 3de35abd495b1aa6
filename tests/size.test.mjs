import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ENTRIES, bundle } from '../bench/size.mjs'

// Min+gzip bytes as a quick-start user ships them: esbuild, minified, neutral platform, gzip level 9, of a
// virtual entry re-exporting src/index.ts (the whole core, session.fetch included) or only the two builders.
// The one-file core issue's musts are 4,096 B and 700 B. With every behaviour the hardening and API issues ask for,
// the core measures 4,857 B and the builders 836 B (the builders' did-you-mean and `got <type>` messages alone cost
// about 140 B; the fixes of a second review, 85 B): the musts are not met, and the issue is marked blocked with that
// measurement. These ceilings hold today's figures, so the size cannot creep while it stays above; `npm run bench`
// prints both beside the musts.
const CORE_LIMIT = 4_900
const BUILDERS_LIMIT = 850

const size = suite('size')

size(`the whole core in one bundle is at most ${CORE_LIMIT.toLocaleString('en-US')} B min+gzip`, async () => {
  const { gzip } = await bundle(ENTRIES.core)
  assert.ok(gzip <= CORE_LIMIT, `the whole core is ${gzip} B, over ${CORE_LIMIT} B by ${gzip - CORE_LIMIT} B`)
})

size(`the two builders alone are at most ${BUILDERS_LIMIT} B min+gzip`, async () => {
  const { gzip } = await bundle(ENTRIES.builders)
  assert.ok(
    gzip <= BUILDERS_LIMIT,
    `the builders are ${gzip} B, over ${BUILDERS_LIMIT} B by ${gzip - BUILDERS_LIMIT} B`,
  )
})

size('the measure is of the whole core: a bundle of only the builders is smaller', async () => {
  const [core, builders] = [await bundle(ENTRIES.core), await bundle(ENTRIES.builders)]
  assert.ok(builders.gzip < core.gzip)
  assert.ok(core.gzip > 1_000, `${core.gzip} B is too small to be the whole core`)
})

size.run()

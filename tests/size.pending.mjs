import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { minGzip } from '../build.mjs'

// The must-reach size: the main entry, minified and gzipped as a bundler would ship it.
const LIMIT = 3072

const size = suite('size')

size(`the main entry is at most ${LIMIT} B min+gzip`, async () => {
  const bytes = await minGzip('index')
  assert.ok(bytes <= LIMIT, `main entry is ${bytes} B min+gzip, over the ${LIMIT} B limit by ${bytes - LIMIT} B`)
})

size.run()

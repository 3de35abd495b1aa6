import { readFileSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { minGzip } from '../build.mjs'

// The core's size as the README and package.json's description give it, against what `npm run build` prints for
// it (`index (min+gzip)`): a byte figure within TOLERANCE of the build's, so a change to the core that moves the
// size by more than that also updates the figures; a KB figure (1 KB = 1,024 B, one decimal) what such a byte
// figure rounds to.
const TOLERANCE = 40

const read = (path) => readFileSync(new URL(path, import.meta.url), 'utf8')
const bytes = (text) => Number(text.replaceAll(',', ''))
/** The KB figures a byte figure within TOLERANCE of `measured` may round to. */
const kilobytesNear = (measured) =>
  new Set([measured - TOLERANCE, measured, measured + TOLERANCE].map((b) => (b / 1024).toFixed(1)))

const figures = suite('size: the figures the README and package.json give for the core')

figures(`the README's byte figure is within ${TOLERANCE} B of the build's, its KB figure rounds it`, async () => {
  const measured = await minGzip('index')
  const found = [
    ...read('../README.md').matchAll(/whole core is one file of (\d+\.\d) KB minified and gzipped \((\d[\d,]*) B\b/g),
  ]
  assert.is(found.length, 1, 'the README names the core size once, as "one file of X.Y KB minified and gzipped (N B"')
  const [[, kilobytes, written]] = found
  const gap = bytes(written) - measured
  assert.ok(Math.abs(gap) <= TOLERANCE, `the README says ${written} B, the build measures ${measured} B (${gap} B)`)
  assert.is(kilobytes, (bytes(written) / 1024).toFixed(1), `${kilobytes} KB is not ${written} B rounded`)
})

figures(`package.json's description gives a KB figure a figure within ${TOLERANCE} B rounds to`, async () => {
  const measured = await minGzip('index')
  const { description } = JSON.parse(read('../package.json'))
  const found = [...description.matchAll(/\((\d+\.\d) KB min\+gzip\b/g)]
  assert.is(found.length, 1, 'the description names the core size once, as "(X.Y KB min+gzip"')
  const [[, kilobytes]] = found
  const near = kilobytesNear(measured)
  assert.ok(near.has(kilobytes), `the description says ${kilobytes} KB, the build measures ${measured} B`)
})

figures.run()

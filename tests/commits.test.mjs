import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'

// CONTRIBUTING: a commit subject is at most 72 characters, the details go in the body. The rule holds from the
// commit after BASE on (earlier subjects are history). Outside a git checkout, or in a clone too shallow to hold
// BASE, there is nothing to read and the check is skipped.
const BASE = '482f5a8c7e33f4ecc2b530d0d4272503bf8d8d82'
const MAX_SUBJECT = 72
const root = fileURLToPath(new URL('..', import.meta.url))

/** `git log` of the commits after BASE as [hash, subject] pairs, or undefined when git cannot say. */
function subjectsAfterBase() {
  const git = (...args) =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  try {
    git('cat-file', '-e', `${BASE}^{commit}`)
    return git('log', '--format=%h%x09%s', `${BASE}..HEAD`)
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\t'))
  } catch {
    return undefined
  }
}

const commits = suite('commit subjects')
const subjects = subjectsAfterBase()
const check = subjects ? commits : commits.skip

check(`every commit subject after the base is at most ${MAX_SUBJECT} characters`, () => {
  const long = (subjects ?? []).filter(([, subject]) => [...subject].length > MAX_SUBJECT)
  assert.equal(
    long.map(([hash, subject]) => `${hash} (${[...subject].length}): ${subject}`),
    [],
    'shorten the subject and move the details into the body',
  )
})

commits.run()

// The machine's own Node. Inside npm scripts, `node` (and so `npm` itself, and process.execPath) is
// node_modules/.bin/node, which the aliased node@22/24/26 packages provide: skip those PATH entries.
import { accessSync, constants } from 'node:fs'
import { delimiter, join, sep } from 'node:path'

export function machineNode() {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir && !dir.includes(`node_modules${sep}.bin`))
  for (const dir of dirs) {
    try {
      accessSync(join(dir, 'node'), constants.X_OK)
      return join(dir, 'node')
    } catch {}
  }
  return process.execPath
}

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/** The scripts and styles a report inlines, so it needs no network and opens from file://. */
export interface ReportAssets {
  uplotJs: string
  uplotCss: string
  clientJs: string
}

let cached: ReportAssets | undefined

/** uPlot (from its npm package) and the report's own client script, read once per process. */
export function reportAssets(): ReportAssets {
  if (cached) return cached
  const require = createRequire(import.meta.url)
  const dist = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'))
  cached = {
    uplotJs: readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'),
    uplotCss: readFileSync(join(dist, 'uPlot.min.css'), 'utf8'),
    clientJs: readFileSync(new URL('../client/report-client.js', import.meta.url), 'utf8'),
  }
  return cached
}

/** Text inside a `<script>` element cannot contain `</script`; a library never should, but make sure. */
export function inlineScript(js: string): string {
  return js.replace(/<\/script/gi, '<\\/script')
}
